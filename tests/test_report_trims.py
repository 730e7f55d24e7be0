"""Verdicts on a trimmed protocol say so; tables show "—" for a setting an optimizer lacks."""

import copy
from dataclasses import replace

from beyondadam.reporting.claims import NOT_RUN, evaluate_claims
from beyondadam.reporting.numbers import TrainingNumbers, TrainingOptimizer
from beyondadam.reporting.profiles import PAPER, QUICK, TrainingProfile
from beyondadam.reporting.render import render_html, render_markdown
from beyondadam.reporting.results import StageRecord, jsonable, parse_stages
from beyondadam.reporting.sample import sample_results
from beyondadam.reporting.tables import numbers_table
from beyondadam.reporting.trims import stage_trims, trim_note


def _outcomes(profile):
    data = sample_results()
    data["profile"] = jsonable(profile.as_dict())
    return data, {c.id: o for c, o in evaluate_claims(parse_stages(data), profile=data["profile"])}


def test_quick_verdicts_say_what_was_trimmed():
    _, out = _outcomes(QUICK)
    note = out["mnist-logreg-train"].trimmed
    quick, paper = QUICK.training["mnist-logreg"], PAPER.training["mnist-logreg"]
    assert note.startswith("rests on a protocol trimmed against the paper profile: mnist-logreg:")
    assert f"iterations {quick.steps:,} instead of 3,000" in note
    if quick.seeds != paper.seeds:
        assert f"seeds {quick.seeds} instead of {paper.seeds}" in note
    assert "lr grid" not in note  # quick runs the task's full lr grid
    # Figure 1 runs as in the paper profile: nothing to say; Theorem 1 is shorter
    assert out["online-x"].trimmed == ""
    assert "theorem1: steps 1,000,000 instead of 5,000,000" in out["theorem1"].trimmed
    # the benchmark is no part of the paper's protocol, so nothing is trimmed against it (what
    # it left out is in its own "not run here" line); a claim not run has no note
    assert out["not-in-general"].trimmed == ""
    assert "tasks not in this benchmark: cifarnet" in out["not-in-general"].measured
    assert out["cifarnet-train"].verdict == NOT_RUN
    assert out["cifarnet-train"].trimmed == ""


def test_paper_profile_verdicts_carry_no_note():
    _, out = _outcomes(PAPER)
    assert all(o.trimmed == "" for o in out.values())


def test_trimmed_grid_is_named():
    two = replace(
        QUICK,
        training={**QUICK.training, "mnist-logreg": TrainingProfile(1500, (3e-3, 1e-2), (0.999,))},
    )
    trims = stage_trims(jsonable(two.as_dict()), "mnist-logreg")
    assert "lr grid {0.003, 0.01} instead of {0.003, 0.01, 0.03, 0.1, 0.3}" in trims
    assert "β2 grid {0.999} instead of {0.99, 0.999}" in trims
    assert trim_note(None, ["mnist-logreg"]) == ""


def test_report_shows_each_trim_note():
    data, out = _outcomes(QUICK)
    md = render_markdown(data)
    page = render_html(data, ".")
    n = sum(1 for o in out.values() if o.trimmed)
    assert n >= 3
    assert md.count("*Note: this verdict rests on a protocol trimmed") == n
    assert page.count('<span class="trim">Note: this verdict rests on') == n
    assert f"{n} verdicts rest on a protocol trimmed" in md


def _with_sgd():
    base = sample_results()
    stages = copy.deepcopy(base["stages"])
    rec = parse_stages({"stages": stages})["mnist-logreg"]
    n = rec.numbers
    sgd = TrainingOptimizer(
        "SGD", {"lr": 0.1}, (0, 1, 2), 0, (0.3, 0.31, 0.32), (0.3,) * 3, (0.9,) * 3
    )
    nadam = replace(n.optimizers["adam"], selected={"betas": [0.9, 0.99], "lr": 0.01})
    numbers = TrainingNumbers(
        n.task, n.test_note, n.n_test, n.test_complete, {"adam": nadam, "sgd": sgd}
    )
    stages["mnist-logreg"] = replace(rec, numbers=numbers).to_json()
    return {**base, "stages": stages}, numbers


def test_optimizer_without_beta2_shows_a_dash_not_nan():
    data, numbers = _with_sgd()
    table = numbers_table(numbers)
    col = table.header.index("selected β2")
    rows = {r[0]: r for r in table.rows}
    assert rows["SGD"][col] == "—"
    assert rows["Adam"][col] == "0.99"
    assert rows["Adam"][table.header.index("selected lr")] == "0.01"
    assert rows["Adam"][table.header.index("other settings")] == "β1=0.9"
    md = render_markdown(data)
    assert "nan" not in md.lower().replace("nanoseconds", "")
    assert "| SGD | 0.1 | — |" in md


def test_stage_record_round_trip_keeps_selected():
    _, numbers = _with_sgd()
    rec = StageRecord(status="done", numbers=numbers)
    assert StageRecord.from_json(rec.to_json()).numbers == numbers
