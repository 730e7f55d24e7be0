import copy
from dataclasses import replace

import pytest

from beyondadam.reporting.benchmark_stats import analyse
from beyondadam.reporting.claims import (
    CLAIMS,
    HOLDS,
    NOT_RUN,
    NOT_SUPPORTED,
    VERDICTS,
    ClaimOutcome,
    evaluate_claims,
)
from beyondadam.reporting.results import parse_stages
from beyondadam.reporting.sample import sample_benchmark, sample_benchmark_data, sample_results


def _by_id(stages):
    """Verdicts from JSON stage records, read through the typed records as a report reads them."""
    return {c.id: o for c, o in evaluate_claims(parse_stages({"stages": stages}))}


@pytest.fixture
def stages():
    return copy.deepcopy(sample_results()["stages"])


def test_claims_cover_the_issue():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for needed in (
        "online-x",
        "online-regret",
        "stochastic-x",
        "stochastic-regret",
        "theorem1",
        "mnist-logreg-train",
        "mnist-mlp-train",
        "cifarnet-train",
        "cifarnet-test",
        "not-in-general",
    ):
        assert needed in ids
    for c in CLAIMS:
        assert c.statement
        assert c.criterion
        assert c.source


def test_sample_verdicts(stages):
    out = _by_id(stages)
    assert all(o.verdict in VERDICTS for o in out.values())
    assert out["online-x"].verdict == HOLDS
    assert out["online-regret"].verdict == HOLDS
    assert out["theorem1"].verdict == HOLDS
    assert out["mnist-logreg-train"].verdict == HOLDS
    # the sample's MLP difference is smaller than the seed spread
    assert out["mnist-mlp-train"].verdict == NOT_SUPPORTED
    assert out["mnist-mlp-train"].detail == "difference inside the seed spread"
    assert out["cifarnet-train"].verdict == NOT_RUN
    assert "CIFAR-10 (binary version) not found" in out["cifarnet-train"].detail
    assert out["not-in-general"].verdict == HOLDS


def test_online_x_flips_with_adam_final_iterate(stages):
    stages["figure1"]["numbers"]["online"]["optimizers"]["adam"]["x_T_seeds"] = [-0.999]
    out = _by_id(stages)["online-x"]
    assert out.verdict == NOT_SUPPORTED
    assert "Adam" in out.detail
    assert "-0.9990" in out.measured


def test_online_x_flips_with_amsgrad_final_iterate(stages):
    stages["figure1"]["numbers"]["online"]["optimizers"]["amsgrad"]["x_T_seeds"] = [0.5]
    assert _by_id(stages)["online-x"].verdict == NOT_SUPPORTED


def test_stochastic_x_needs_a_majority_of_seeds(stages):
    ams = stages["figure1"]["numbers"]["stochastic"]["optimizers"]["amsgrad"]
    ams["x_T_seeds"] = [-0.99, -0.98, -0.97, -0.5, -0.4]  # 3 of 5 within 0.1 of -1
    out = _by_id(stages)["stochastic-x"]
    assert out.verdict == HOLDS
    assert "3 of 5 seeds" in out.measured
    ams["x_T_seeds"] = [-0.99, -0.98, -0.7, -0.5, -0.4]  # 2 of 5
    out = _by_id(stages)["stochastic-x"]
    assert out.verdict == NOT_SUPPORTED
    assert "2 of 5 seeds" in out.measured


def test_regret_claims(stages):
    adam = stages["figure1"]["numbers"]["stochastic"]["optimizers"]["adam"]
    adam["avg_regret_T"], adam["avg_regret_half"] = 0.001, 0.05  # Adam's regret vanishing too
    out = _by_id(stages)["stochastic-regret"]
    assert out.verdict == NOT_SUPPORTED
    assert "Adam" in out.detail
    stages = copy.deepcopy(sample_results()["stages"])
    ams = stages["figure1"]["numbers"]["online"]["optimizers"]["amsgrad"]
    ams["avg_regret_T"], ams["avg_regret_half"] = 0.2, 0.2  # AMSGrad's does not vanish
    out = _by_id(stages)["online-regret"]
    assert out.verdict == NOT_SUPPORTED
    assert "AMSGrad" in out.detail


def test_theorem1_needs_every_c(stages):
    n = stages["theorem1"]["numbers"]
    n["optimizers"]["adam"]["x_T"][1] = -1.0
    out = _by_id(stages)["theorem1"]
    assert out.verdict == NOT_SUPPORTED
    assert "C=5" in out.detail
    n["C"], n["beta2"] = [1.5], [1 / (1 + 1.5**2)]
    for o in n["optimizers"].values():
        o["x_T"], o["avg_regret"] = [1.0], [0.5]
    assert _by_id(stages)["theorem1"].verdict == NOT_RUN


def test_training_claim_verdicts(stages):
    ams = stages["mnist-logreg"]["numbers"]["optimizers"]["amsgrad"]
    ams["final_train_loss"] = [0.40, 0.41, 0.405]  # now clearly above Adam's ~0.30
    out = _by_id(stages)["mnist-logreg-train"]
    assert out.verdict == NOT_SUPPORTED
    assert out.detail == "Adam's is lower, beyond the seed spread"
    ams["final_train_loss"] = [0.301, 0.299, 0.302]  # inside the spread
    out = _by_id(stages)["mnist-logreg-train"]
    assert out.detail == "difference inside the seed spread"
    ams["final_train_loss"] = [0.2]
    stages["mnist-logreg"]["numbers"]["optimizers"]["adam"]["final_train_loss"] = [0.3]
    out = _by_id(stages)["mnist-logreg-train"]
    assert out.verdict == NOT_SUPPORTED
    assert "single seed" in out.detail


def test_cifar_claims_when_run(stages):
    stages["cifarnet"] = copy.deepcopy(stages["mnist-logreg"])
    stages["cifarnet"]["numbers"]["n_test"] = 1000
    out = _by_id(stages)
    assert out["cifarnet-train"].verdict == HOLDS
    assert out["cifarnet-test"].verdict in (HOLDS, NOT_SUPPORTED)
    assert "1,000 images" in out["cifarnet-test"].measured


@pytest.mark.parametrize(
    ("shifts", "verdict"),
    [
        ({}, HOLDS),  # ties everywhere
        ({"mnist-logreg": {"amsgrad": -0.1}, "mnist-mlp": {"amsgrad": -0.1}}, NOT_SUPPORTED),
        ({"mnist-logreg": {"amsgrad": -0.1}}, NOT_SUPPORTED),  # half the tasks, no loss
        ({"mnist-logreg": {"amsgrad": -0.1}, "mnist-mlp": {"amsgrad": 0.1}}, HOLDS),  # a loss
        ({"mnist-logreg": {"amsgrad": 0.1}}, HOLDS),
    ],
)
def test_not_in_general_from_the_benchmark(stages, shifts, verdict):
    stages["benchmark"]["numbers"] = sample_benchmark(shifts).to_json()
    out = _by_id(stages)["not-in-general"]
    assert out.verdict == verdict
    assert "Optimizers that beat Adam on a majority of the 2 tasks" in out.measured
    assert "tasks not in this benchmark: cifarnet" in out.measured


def test_not_in_general_needs_two_seeds(stages):
    numbers = sample_benchmark()
    one_seed = [r for r in sample_benchmark_data().records if r.phase == "search" or r.index == 0]
    data = replace(sample_benchmark_data(), records=one_seed, seeds=1)
    stages["benchmark"]["numbers"] = analyse(data, numbers.names).to_json()
    out = _by_id(stages)["not-in-general"]
    assert out.verdict == NOT_RUN
    assert "untested" in out.detail


def test_not_in_general_is_not_run_without_the_benchmark(stages):
    # the training stages are there, but the claim must not fall back to them
    stages["benchmark"] = {"status": "not run", "reason": "the quick profile runs no benchmark"}
    out = _by_id(stages)["not-in-general"]
    assert out.verdict == NOT_RUN
    assert "quick profile runs no benchmark" in out.detail
    del stages["benchmark"]
    assert _by_id(stages)["not-in-general"].verdict == NOT_RUN


def test_missing_stage_and_incomplete_numbers(stages):
    del stages["theorem1"]
    out = _by_id(stages)["theorem1"]
    assert out.verdict == NOT_RUN
    assert "not selected" in out.detail
    del stages["figure1"]["numbers"]["stochastic"]["optimizers"]["adam"]
    out = _by_id(stages)["stochastic-x"]
    assert out.verdict == NOT_RUN
    assert "incomplete" in out.detail


def test_outcome_validates_verdict():
    with pytest.raises(ValueError):
        ClaimOutcome("maybe", "x")
    assert ClaimOutcome(NOT_SUPPORTED, "x", "why").verdict_text == "not supported (why)"
