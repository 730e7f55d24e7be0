"""The command line's contract: fast help, and every user mistake refused before any work.

No test here trains or simulates: each mistake is refused before the work starts, and a valid
value is shown accepted by letting a later check (a size too large to allocate) refuse instead.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import beyondadam
from beyondadam.cli import _options, main
from beyondadam.cli.sim import PROBLEM_NAMES

HEAVY = ("torch", "numba", "pandas", "matplotlib", "panel", "bokeh")
HUGE = str(10**13)


def refused(args: list[str], option: str) -> str:
    """Run the CLI, check it refused ``option`` with one error line, status 2, no traceback."""
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("Error: Invalid value for"), r.output
    assert option in last, r.output
    return last


def failed(args: list[str], text: str) -> str:
    """Run the CLI, check it stopped with one ``Error:`` message containing ``text``, status 1."""
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    assert r.output.startswith("Error: "), r.output
    assert text in r.output, r.output
    return r.output


# ---------------------------------------------------------------------------- help and start-up


def test_help_of_every_command_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from beyondadam.cli import main\n"
        "for args in ([], *([c] for c in sorted(main.commands))):\n"
        "    try:\n"
        "        main.main([*args, '--help'], prog_name='beyondadam')\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (args, e.code)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(len(main.commands))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(beyondadam.__file__).parents[1])}
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    *_, imported, count = r.stdout.strip().splitlines()
    assert imported == "[]", f"--help imported {imported}"
    assert int(count) == len(main.commands) >= 9


def test_static_choices_match_the_library():
    # --help lists these without importing the layers that define them
    from beyondadam.experiments import TASKS
    from beyondadam.experiments.executors import EXECUTORS
    from beyondadam.sim import PROBLEMS

    assert tuple(TASKS) == _options.TASK_NAMES
    assert tuple(EXECUTORS) == _options.EXECUTOR_NAMES
    assert tuple(PROBLEMS) == PROBLEM_NAMES


# ---------------------------------------------------------------------------- bad --out


def _out_commands(out: str) -> list[list[str]]:
    return [
        ["train", "--task", "mnist-mlp", "--out", out],
        ["sweep", "--out", out],
        ["synthetic", "--out", out],
        ["atlas", "--out", out],
        ["theorem1-sweep", "--out", out],
        ["reproduce", "--out", out],
    ]


@pytest.mark.parametrize("where", ["under_a_file", "proc"])
def test_unwritable_out_refused_before_work(tmp_path, where):
    (tmp_path / "a_file").write_text("x")
    if where == "proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        out = "/proc/beyondadam-test/x"
    else:
        out = str(tmp_path / "a_file" / "sub")
    before = sorted(tmp_path.rglob("*"))
    for args in _out_commands(out):
        refused(args, "'--out'")
    store = tmp_path / "store"
    store.mkdir()
    (store / "results.sqlite").write_bytes(b"")
    refused(["export-results", str(store), f"{out}/r.csv"], "'PATH'")
    refused(["optimizers", "--markdown", f"{out}/o.md"], "'--markdown'")
    assert sorted(tmp_path.rglob("*")) == [*before, store, store / "results.sqlite"]


def test_a_valid_out_is_left_as_it_was(tmp_path):
    out = tmp_path / "new" / "deeper"
    refused(["synthetic", "--out", str(out), "--seeds", HUGE], "'--seeds'")
    assert not (tmp_path / "new").exists()  # the write probe cleans up after itself


# ---------------------------------------------------------------------------- --hp and options


@pytest.mark.parametrize(
    ("hp", "says"),
    [
        ("[1,2]", "must be a JSON object"),
        ("{bad", "not valid JSON"),
        ('{"foo": 1}', "no hyperparameter 'foo'"),
        ('{"eps": -1}', "eps must be"),
        ('{"betas": [0.9, 0.99]}', "use --lr, --beta1 and --beta2"),
    ],
)
def test_bad_hp_names_hp(tmp_path, hp, says):
    last = refused(["train", "--task", "mnist-mlp", "--hp", hp, "--out", str(tmp_path)], "'--hp'")
    assert says in last


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["train", "--task", "mnist-mlp", "-o", "sgd", "--beta2", "5"], "'--beta2'"),
        (["train", "--task", "mnist-mlp", "-o", "rmsprop", "--beta1", "0.5"], "'--beta1'"),
        (["train", "--task", "mnist-mlp", "-o", "adamnc", "--beta2", "0.5"], "'--beta2'"),
        (["train", "--task", "mnist-mlp", "--beta2", "1.5"], "--beta2"),
        (["train", "--task", "mnist-mlp", "--lr", "0"], "'--lr'"),
        (["train", "--task", "mnist-mlp", "-o", "adamw"], "'--optimizer'"),
        (["sweep", "-o", "adamw"], "'--optimizer'"),
        (["sweep", "--lrs", "a,b"], "'--lrs'"),
        (["synthetic", "--optimizers", "sgd", "--beta2", "0.5"], "'--beta2'"),
        (["synthetic", "--optimizers", "adamw"], "'--optimizers'"),
        (["atlas", "--optimizers", "sgd"], "'--optimizers'"),
        (["atlas", "--lr", "nan"], "'--lr'"),
        (["theorem1-sweep", "--C-values", "1,3"], "'--C-values'"),
        (["theorem1-sweep", "--beta2", "theorem,2"], "'--beta2'"),
        (["reproduce", "--profile", "fast"], "'--profile'"),
        (["reproduce", "--executor", "dask", "--scheduler", "nohost"], "'--scheduler'"),
        (["sweep", "--executor", "dask", "--scheduler", "tcp://h:port"], "'--scheduler'"),
        (["reproduce", "--only", "bogus"], "'--only'"),
        (["optimizers", "adamw"], "'NAMES'"),
    ],
)
def test_option_mistakes_name_the_option(tmp_path, args, option):
    refused([*args, *([] if args[0] == "optimizers" else ["--out", str(tmp_path / "o")])], option)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["train", "--task", "mnist-mlp", "--steps", "0"], "'--steps'"),
        (["sweep", "--steps", "0"], "'--steps'"),
        (["sweep", "--seeds", "0"], "'--seeds'"),
        (["synthetic", "--steps", "0"], "'--steps'"),
        (["atlas", "-T", "0"], "'--horizon' / '-T'"),
        (["atlas", "--grid", "1"], "'--grid'"),
        (["theorem1-sweep", "-T", "0"], "'--horizon' / '-T'"),
    ],
)
def test_zero_sizes_name_the_option_typed(tmp_path, args, option):
    refused([*args, "--out", str(tmp_path)], option)


def test_atlas_formats_refused_before_the_run(tmp_path):
    last = refused(["atlas", "--formats", "png,bogus", "--out", str(tmp_path / "a")], "--formats")
    assert "svg" in last  # the message lists what is possible
    assert not (tmp_path / "a").exists()


# ---------------------------------------------------------------------------- names, any case


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["train", "--task", "MNIST-MLP", "-o", "AMSGrad", "--steps", HUGE], "'--steps'"),
        (["train", "--task", "mnist-mlp", "-o", "aMsGrAd", "--steps", HUGE], "'--steps'"),
        (["train", "--task", "mnist-mlp", "-o", "SGD", "--steps", HUGE], "'--steps'"),
        (["sweep", "-o", "ADAM", "-o", "amsgrad", "--steps", HUGE], "'--steps'"),
        (["synthetic", "--optimizers", "ADAM,amsgrad", "--seeds", HUGE], "'--seeds'"),
        (["atlas", "--optimizers", "rmsprop,ADAMNC", "--grid", "10000000"], "'--grid'"),
    ],
)
def test_names_accepted_in_any_case(tmp_path, args, option):
    # the name passes; the size check after it is what refuses
    last = refused([*args, "--out", str(tmp_path)], option)
    assert "GiB" in last


# ---------------------------------------------------------------------------- sizes


def test_unallocatable_sizes_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(_options, "available_memory", lambda: 2**30)
    out = ["--out", str(tmp_path)]
    refused(["train", "--task", "mnist-mlp", "--steps", str(10**8), *out], "'--steps'")
    refused(["sweep", "--lrs", "0.1", "--steps", str(10**7), *out], "'--steps'")
    refused(["synthetic", "--seeds", str(10**6), *out], "'--seeds'")
    refused(["atlas", "--grid", "1000", *out], "'--grid'")
    refused(["theorem1-sweep", "--C-values", ",".join(["3"] * 10**5), *out], "'--C-values'")
    _options.check_memory(2**20, "a small run", "--x")  # far below: accepted


def test_too_many_recorded_seeds_refused_with_a_usable_bound(tmp_path):
    """Memory aside, the engine keeps at most MAX_RECORDED values a curve array: say so first."""
    last = refused(["synthetic", "--seeds", "100000", "--out", str(tmp_path)], "'--seeds'")
    assert "use at most 73,313 seeds" in last
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------- overwriting


SIM = ("synthetic", "atlas", "theorem1-sweep")


def test_simulator_commands_have_their_own_default_folders():
    outs = [next(p.default for p in main.commands[c].params if p.name == "out_dir") for c in SIM]
    assert len(set(outs)) == 3, outs
    assert all(Path("out/sim") in Path(o).parents for o in outs)


@pytest.mark.parametrize(
    ("command", "sized_by"),
    [("synthetic", "'--seeds'"), ("atlas", "'--grid'"), ("theorem1-sweep", "'--C-values'")],
)
def test_existing_outputs_not_overwritten_without_force(monkeypatch, tmp_path, command, sized_by):
    (tmp_path / "figure1.png").write_bytes(b"earlier")
    last = refused([command, "--out", str(tmp_path)], "'--out'")
    assert "--force" in last
    # with --force the folder is accepted: the next check (memory, none here) is what refuses
    monkeypatch.setattr(_options, "available_memory", lambda: 0)
    refused([command, "--out", str(tmp_path), "--force"], sized_by)
    assert (tmp_path / "figure1.png").read_bytes() == b"earlier"


# ---------------------------------------------------------------------------- stores, reports


def test_store_that_is_not_a_database_named(tmp_path):
    (tmp_path / "results.sqlite").write_text("not a database")
    out = failed(["export-results", str(tmp_path), str(tmp_path / "r.csv")], "results.sqlite")
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize("content", ["[1, 2]", '{"stages": 3}', "nonsense"])
def test_report_on_something_else_is_one_error(tmp_path, content):
    (tmp_path / "results.json").write_text(content)
    failed(["report", str(tmp_path)], "results.json")
