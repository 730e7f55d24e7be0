"""The claims drawn from regret-rate verdicts (atlas, family) flip when the stored counts do."""

import copy

import pytest

from beyondadam.reporting.claims import HOLDS, NOT_RUN, NOT_SUPPORTED, evaluate_claims
from beyondadam.reporting.collect import atlas_note
from beyondadam.reporting.numbers import AtlasNumbers
from beyondadam.reporting.results import parse_stages
from beyondadam.reporting.sample import sample_results, sample_stages
from beyondadam.reporting.tables import numbers_table


def _by_id(stages):
    return {c.id: o for c, o in evaluate_claims(parse_stages({"stages": stages}))}


@pytest.fixture
def stages():
    return copy.deepcopy(sample_results()["stages"])


def test_sample_rate_verdicts(stages):
    out = _by_id(stages)
    for cid in ("atlas-amsgrad", "atlas-adopt", "family-online"):
        assert out[cid].verdict == HOLDS, cid
    # undecided cells are counted and explained, never called failures
    assert "50 undecided cells" in out["atlas-amsgrad"].detail
    assert "too short" in out["atlas-amsgrad"].detail
    assert "converges 150, fails 0, undecided 50" in out["atlas-amsgrad"].measured
    assert "of its 9 of them ending at x_T > 0: converges 0, fails 0, undecided 9" in (
        out["atlas-amsgrad"].measured
    )


def test_adopt_claim_flips_with_one_failing_cell(stages):
    v = stages["atlas"]["numbers"]["optimizers"]["adopt"]["verdicts"]
    v["fails"], v["converges"] = 1, v["converges"] - 1
    out = _by_id(stages)["atlas-adopt"]
    assert out.verdict == NOT_SUPPORTED
    assert out.detail == "ADOPT fails in 1 of 256 cells"
    assert "fails 1" in out.measured


def test_amsgrad_claim_reads_only_the_theory_region(stages):
    o = stages["atlas"]["numbers"]["optimizers"]["amsgrad"]
    o["verdicts"]["fails"] = 7  # failures outside beta1 < sqrt(beta2): the claim says nothing
    assert _by_id(stages)["atlas-amsgrad"].verdict == HOLDS
    o["verdicts_where_beta1_lt_sqrt_beta2"]["fails"] = 2
    out = _by_id(stages)["atlas-amsgrad"]
    assert out.verdict == NOT_SUPPORTED
    assert out.detail == "AMSGrad fails in 2 cells with β1 < √β2"


def test_amsgrad_claim_without_undecided_cells_has_no_note(stages):
    o = stages["atlas"]["numbers"]["optimizers"]["amsgrad"]
    o["verdicts_where_beta1_lt_sqrt_beta2"] = {"converges": 200, "fails": 0, "undecided": 0}
    out = _by_id(stages)["atlas-amsgrad"]
    assert (out.verdict, out.detail) == (HOLDS, "")


@pytest.mark.parametrize(
    ("key", "problem_index", "verdict", "detail"),
    [
        ("adam", 0, "undecided", "Adam undecided, not fails"),
        ("amsgrad", 0, "fails", "AMSGrad fails, not converges"),
    ],
)
def test_family_claim_flips_with_a_verdict(stages, key, problem_index, verdict, detail):
    runs = stages["family"]["numbers"]["runs"]
    run = [r for r in runs if r["key"] == key and r["problem"] == "paper_online"][problem_index]
    run["verdict"] = verdict
    out = _by_id(stages)["family-online"]
    assert out.verdict == NOT_SUPPORTED
    assert out.detail == detail


def test_family_claim_reads_only_the_online_problem(stages):
    for r in stages["family"]["numbers"]["runs"]:
        if r["problem"] != "paper_online":
            r["verdict"] = "undecided"
    assert _by_id(stages)["family-online"].verdict == HOLDS


def test_rate_claims_not_run_without_their_numbers(stages):
    del stages["atlas"]["numbers"]["optimizers"]["adopt"]
    stages["family"]["numbers"]["runs"] = [
        r for r in stages["family"]["numbers"]["runs"] if r["key"] != "amsgrad"
    ]
    out = _by_id(stages)
    assert out["atlas-adopt"].verdict == NOT_RUN
    assert out["family-online"].verdict == NOT_RUN
    assert "incomplete" in out["family-online"].detail
    assert out["atlas-amsgrad"].verdict == HOLDS
    del stages["family"]
    assert "not selected" in _by_id(stages)["family-online"].detail


def test_tables_and_notes_from_the_typed_numbers():
    recs = sample_stages()
    atlas = numbers_table(recs["atlas"].numbers)
    assert atlas.rows[1] == ("AMSGrad", "180", "0", "76", "150", "0", "50", "9", "9: 0 / 0 / 9")
    fam = numbers_table(recs["family"].numbers)
    assert fam.header == ("optimizer", "setting", "paper_online", "theorem1(C=5)")
    assert fam.rows[0] == ("Adam", "paper betas, lr=0.5", "fails (0.97)", "fails (1.00)")
    n = recs["atlas"].numbers
    assert isinstance(n, AtlasNumbers)
    note = atlas_note(n.optimizers["amsgrad"], n)
    assert "9 are undecided (a slow start" in note
    assert "0 fail." in note
