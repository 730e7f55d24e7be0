"""Every optimizer on every counterexample (sim.family), the atlas for any optimizer, and their CLI.

The verdicts asserted come from deterministic runs of the online problem at the paper's 5M steps
(the fitted exponents: Adam 1.16 and 0.94, AMSGrad 0.32 and 0.48 in the two lr = 0.5 settings);
at 1M steps Adam's exponent is still 0.87-0.88 (undecided), so a shorter horizon would not show
the failure.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.sim import atlas, family, paper_online, theorem1
from beyondadam.sim.atlas import atlas_name, theorem1_failure_beta2
from beyondadam.sim.family import NO_RULE, SETTINGS, default_problems
from beyondadam.sim.rates import Verdict
from beyondadam.sim.rules import RULES

PAPER_T = 5_000_000
LR_SETTINGS = (SETTINGS[0], SETTINGS[2])  # lr = 0.5 with defaults, with the paper's betas


@pytest.fixture(scope="module")
def online():
    return family(["Adam", "AMSGrad"], PAPER_T, problems=[paper_online()])


@pytest.mark.parametrize("setting", LR_SETTINGS)
def test_adam_fails_and_amsgrad_converges_on_the_online_problem(online, setting):
    adam = online.row("adam", setting, "paper_online")
    ams = online.row("AMSGRAD", setting, "paper_online")
    assert adam.verdict is Verdict.FAILS, adam
    assert adam.x_final > 0  # the wrong side: x* = -1
    assert ams.verdict is Verdict.CONVERGES, ams
    assert ams.x_final < -0.9
    assert ams.avg_regret < adam.avg_regret / 5


def test_adopt_converges_on_the_online_problem_where_its_rule_exists():
    if "adopt" not in RULES:
        pytest.skip("ADOPT has no simulator rule yet (sim.rules.RULES['adopt'])")
    res = family(["ADOPT"], PAPER_T, problems=[paper_online()])
    for setting in LR_SETTINGS:
        row = res.row("adopt", setting, "paper_online")
        assert row.verdict is Verdict.CONVERGES, row


def test_settings_rows_and_outputs(tmp_path):
    res = family(["SGD", "AdamNC", "Adam"], 3_000, seeds=2)
    problems = [p.name for p in default_problems()]
    assert res.problems == problems
    settings = {(r.optimizer, r.setting) for r in res.rows}
    # SGD has no default lr and no betas; AdamNC's paper beta1 is its default and runs once.
    assert {s for o, s in settings if o == "SGD"} == {SETTINGS[0]}
    assert {s for o, s in settings if o == "AdamNC"} == set(SETTINGS)
    assert len(res.rows) == len(settings) * len(problems)
    stoch = [r for r in res.rows if r.problem == "paper_stochastic"]
    assert {r.seeds for r in stoch} == {2}
    per_setting = 7 + 2 * 2  # online problems, then 2 stochastic problems x 2 seeds
    # distinct settings: SGD 1, AdamNC 2 (its paper beta1 is its default), Adam 4
    assert res.configs_run == per_setting * (1 + 2 + 4)
    assert res.curves.shape == (len(res.rows), res.steps.size)
    frame = res.to_frame()
    for col in ("optimizer", "setting", "problem", "x_T", "x*", "R_T/T", "exponent", "verdict"):
        assert col in frame.columns
    paths = res.write(tmp_path, ["png"])
    assert {p.name for p in paths} == {"family.png", "family.csv", "family.md"}
    assert "## paper betas, lr=0.5" in (tmp_path / "family.md").read_text()


def test_entries_without_a_rule_are_listed_not_run(monkeypatch, tmp_path):
    monkeypatch.delitem(RULES, "amsgrad")
    res = family(["Adam", "AMSGrad"], 500, problems=[paper_online()])
    assert res.missing == ["AMSGrad"]
    assert {r.optimizer for r in res.rows} == {"Adam"}
    res.write(tmp_path, [])
    assert f"{NO_RULE}: AMSGrad" in (tmp_path / "family.md").read_text()


def test_family_refuses_bad_input():
    with pytest.raises(ValueError, match="unknown optimizer"):
        family(["Adamw"], 100)
    with pytest.raises(ValueError, match="seeds"):
        family(["Adam"], 100, seeds=0)
    with pytest.raises(ValueError, match="lr"):
        family(["Adam"], 100, lr=float("nan"))


# ---------------------------------------------------------------------------- atlas


def test_atlas_of_a_non_default_optimizer_has_rates(tmp_path):
    res = atlas(theorem1(10.0), ["nadam", "AdamNC", "rmsprop"], grid=3, horizon=3_000)
    assert list(res.final_x) == ["NAdam", "AdamNC", "RMSProp"]
    for name in res.final_x:
        assert res.verdict[name].shape == res.exponent[name].shape == (3, 3)
        assert set(res.verdict[name].ravel()) <= {str(v) for v in Verdict}
    # AdamNC depends on beta1 only, RMSProp (Adam with beta1 = 0) on beta2 only
    assert np.all(res.exponent["AdamNC"] == res.exponent["AdamNC"][:, :1])
    assert np.all(res.exponent["RMSProp"] == res.exponent["RMSProp"][:1, :])
    assert res.configs_run == 9 + 3 + 3
    frame = res.to_frame()
    assert list(frame.columns) == [
        "optimizer", "beta1", "beta2", "x_T", "R_T/T", "exponent", "verdict",
    ]  # fmt: skip
    assert sum(res.verdict_counts("NAdam").values()) == 9
    paths = res.write(tmp_path, ["png"])
    assert [p.name for p in paths] == ["atlas.png", "atlas.csv"]


def test_atlas_refuses_optimizers_without_betas_or_rule(monkeypatch):
    with pytest.raises(ValueError, match="no betas"):
        atlas_name("SGD")
    monkeypatch.delitem(RULES, "nadam")
    with pytest.raises(ValueError, match="no simulator rule"):
        atlas_name("nadam")


def test_theorem1_failure_region_of_the_paper_argument():
    # min(C^(-4/(C-2)), 1 - (9/(2C))^2): empty for C = 3, 10^(-1/2) for C = 10
    assert theorem1_failure_beta2(3.0) < 0
    assert theorem1_failure_beta2(10.0) == pytest.approx(10**-0.5)
    assert theorem1_failure_beta2(20.0) == pytest.approx(20 ** (-4 / 18))


# ---------------------------------------------------------------------------- CLI


def test_family_command_end_to_end(tmp_path):
    out = tmp_path / "f"
    args = ["family", "-o", "adam", "--optimizer", "AMSGRAD", "--steps", "2000", "--seeds", "1",
            "--formats", "png", "--out", str(out), "--quiet"]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    lines = [ln.split("\t") for ln in r.output.strip().splitlines() if "\t" in ln]
    assert {ln[0] for ln in lines} == {"Adam", "AMSGrad"}
    assert all(ln[3] in {str(v) for v in Verdict} for ln in lines)
    assert {p.name for p in out.iterdir()} == {"family.png", "family.csv", "family.md"}
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert "--force" in again.output


def test_family_command_refuses_unknown_names(tmp_path):
    r = CliRunner().invoke(main, ["family", "-o", "adamw", "--out", str(tmp_path / "f")])
    assert r.exit_code == 2
    assert "'--optimizer'" in r.output.strip().splitlines()[-1]
    assert not (tmp_path / "f").exists()


def test_atlas_command_takes_any_catalog_optimizer(tmp_path):
    out = tmp_path / "a"
    args = ["atlas", "--optimizer", "NAdam", "--grid", "2", "-T", "500", "--formats", "png",
            "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "NAdam" in r.output
    assert "verdicts:" in r.output
    assert {p.name for p in out.iterdir()} == {"atlas.png", "atlas.csv"}
    bad = CliRunner().invoke(main, ["atlas", "--optimizer", "sgd", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2
    assert "no betas" in bad.output
