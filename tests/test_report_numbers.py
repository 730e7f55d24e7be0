"""Typed stage numbers: exact JSON round trips, strict reading, any number of optimizers."""

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.reporting.claims import HOLDS, evaluate_claims
from beyondadam.reporting.numbers import (
    Figure1Numbers,
    SettingNumbers,
    Theorem1Numbers,
    TrainingNumbers,
    numbers_from_json,
)
from beyondadam.reporting.render import render_html, render_markdown
from beyondadam.reporting.results import StageRecord, parse_stages, save
from beyondadam.reporting.sample import sample_results, sample_stages
from beyondadam.reporting.tables import numbers_table


def _json_round_trip(obj):
    return json.loads(json.dumps(obj))


@pytest.mark.parametrize("sid", list(sample_stages()))
def test_stage_records_round_trip_exactly(sid):
    rec = sample_stages()[sid]
    data = rec.to_json()
    back = StageRecord.from_json(_json_round_trip(data))
    assert back == rec
    assert back.to_json() == data
    if rec.numbers is not None:
        assert numbers_from_json(_json_round_trip(rec.numbers.to_json())) == rec.numbers


def test_json_keys_stay_the_stored_names():
    n = sample_stages()["figure1"].numbers.to_json()
    assert n["kind"] == "figure1"
    assert set(n["online"]["optimizers"]["adam"]) == {
        "name",
        "label",
        "x_T",
        "x_T_seeds",
        "avg_regret_T",
        "avg_regret_half",
    }
    t = sample_stages()["theorem1"].numbers.to_json()
    assert t["optimizers"]["adam"]["x_T"] == [1.0, 1.0]


def test_reading_is_strict():
    good = sample_stages()["mnist-logreg"].numbers.to_json()
    with pytest.raises(ValueError, match="kind must be one of"):
        numbers_from_json({**good, "kind": "mystery"})
    with pytest.raises(KeyError, match="n_test"):
        numbers_from_json({k: v for k, v in good.items() if k != "n_test"})
    with pytest.raises(TypeError, match="true or false"):
        numbers_from_json({**good, "test_complete": "yes"})
    bad_adam = good["optimizers"]["adam"] | {"final_train_loss": "0.3"}
    with pytest.raises(TypeError, match="expected a list"):
        numbers_from_json({**good, "optimizers": {"adam": bad_adam}})
    t = sample_stages()["theorem1"].numbers
    with pytest.raises(ValueError, match="one value per C"):
        replace(t, C=(3.0,))
    assert numbers_from_json(None) is None
    assert numbers_from_json({}) is None
    with pytest.raises(ValueError, match="status must be one of"):
        StageRecord(status="finished")


def _with_more_optimizers(stages, extra):
    """The sample with ``extra`` ({key: name}) added to every stage, each a copy of Adam's."""

    def widen(optimizers):
        adam = optimizers["adam"]
        return optimizers | {k: replace(adam, name=name) for k, name in extra.items()}

    out = dict(stages)
    f1 = stages["figure1"].numbers
    settings = {
        s: replace(getattr(f1, s), optimizers=widen(getattr(f1, s).optimizers))
        for s in ("online", "stochastic")
    }
    out["figure1"] = replace(stages["figure1"], numbers=Figure1Numbers(**settings))
    for sid in ("theorem1", "mnist-logreg", "mnist-mlp"):
        n = stages[sid].numbers
        out[sid] = replace(stages[sid], numbers=replace(n, optimizers=widen(n.optimizers)))
    return out


EXTRA = {
    "sgd": "SGD",
    "momentum": "Momentum",
    "nag": "NAG",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adadelta": "AdaDelta",
    "nadam": "NAdam",
}


def test_a_run_with_nine_optimizers_reports_all_nine(tmp_path):
    two = sample_stages()
    nine = _with_more_optimizers(two, EXTRA)
    assert len(nine["mnist-logreg"].numbers.optimizers) == 9
    before = {c.id: o for c, o in evaluate_claims(two)}
    after = {c.id: o for c, o in evaluate_claims(nine)}
    # the claims compare AMSGrad with Adam: same verdicts, every optimizer in the measured text
    assert {k: o.verdict for k, o in after.items()} == {k: o.verdict for k, o in before.items()}
    for cid in ("online-x", "online-regret", "theorem1", "mnist-logreg-train"):
        assert all(name in after[cid].measured for name in EXTRA.values()), cid
        assert after[cid].measured.index("Adam") < after[cid].measured.index("AMSGrad")
    for sid in ("figure1", "theorem1", "mnist-logreg"):
        rows = numbers_table(nine[sid].numbers).rows
        assert [r[0] for r in rows] == ["Adam", "AMSGrad", *EXTRA.values()]
    data = sample_results() | {"stages": {k: v.to_json() for k, v in nine.items()}}
    md = render_markdown(data)
    page = render_html(data, tmp_path)
    for name in EXTRA.values():
        assert f"| {name} |" in md
        assert f"<td>{name}</td>" in page


def test_missing_baseline_is_reported_not_guessed():
    stages = sample_stages()
    n = stages["mnist-logreg"].numbers
    no_adam = {k: v for k, v in n.optimizers.items() if k != "adam"}
    stages["mnist-logreg"] = replace(stages["mnist-logreg"], numbers=replace(n, optimizers=no_adam))
    out = {c.id: o for c, o in evaluate_claims(stages)}["mnist-logreg-train"]
    assert out.verdict == "not run"
    assert "'adam'" in out.detail
    assert {c.id: o for c, o in evaluate_claims(sample_stages())}["theorem1"].verdict == HOLDS


def test_numbers_of_the_wrong_kind_are_incomplete():
    stages = sample_stages()
    stages["figure1"] = replace(stages["figure1"], numbers=stages["theorem1"].numbers)
    out = {c.id: o for c, o in evaluate_claims(stages)}["online-x"]
    assert out.verdict == "not run"
    assert "Figure1Numbers" in out.detail


def _report(out_dir):
    res = CliRunner().invoke(main, ["report", str(out_dir)])
    assert "Traceback" not in res.output
    return res


def test_report_on_an_old_or_foreign_results_json_is_one_line(tmp_path):
    old = sample_results()
    old["schema_version"] = 1
    (tmp_path / "results.json").write_text(json.dumps(old))
    res = _report(tmp_path)
    assert res.exit_code == 1
    assert "schema version 1" in res.output
    assert "reads version 2" in res.output
    assert len(res.output.strip().splitlines()) == 1

    foreign = sample_results()
    foreign["stages"]["figure1"]["numbers"] = {"kind": "figure1", "online": {}}
    save(tmp_path, foreign)
    res = _report(tmp_path)
    assert res.exit_code == 1
    assert "stage 'figure1' cannot be read" in res.output
    assert len(res.output.strip().splitlines()) == 1

    (tmp_path / "results.json").write_text("[1, 2]")
    res = _report(tmp_path)
    assert res.exit_code == 1
    assert len(res.output.strip().splitlines()) == 1


def test_sample_uses_the_typed_classes():
    stages = parse_stages(sample_results())
    assert isinstance(stages["figure1"].numbers.online, SettingNumbers)
    assert isinstance(stages["theorem1"].numbers, Theorem1Numbers)
    assert isinstance(stages["mnist-mlp"].numbers, TrainingNumbers)
    assert stages["cifarnet"].numbers is None
