"""``beyondadam optimizers``: read from the catalog, math readable, docs/optimizers.md generated."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.cli._docstrings import latex_to_text, rst_to_markdown, rst_to_text
from beyondadam.cli.optimizers import markdown
from beyondadam.optim.catalog import ENTRIES

DOCS = Path(__file__).parents[1] / "docs" / "optimizers.md"


def test_committed_docs_are_the_generated_ones():
    # adding an optimizer or editing a docstring without regenerating fails here:
    #   beyondadam optimizers --markdown docs/optimizers.md
    assert DOCS.read_text(encoding="utf-8") == markdown()


def test_markdown_option_writes_the_same(tmp_path):
    r = CliRunner().invoke(main, ["optimizers", "--markdown", str(tmp_path / "o.md")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o.md").read_text(encoding="utf-8") == markdown()
    r = CliRunner().invoke(main, ["optimizers", "--markdown", "-"])
    assert r.output == markdown()


def test_markdown_has_a_section_with_defaults_per_optimizer():
    md = markdown()
    for e in ENTRIES:
        section = md.split(f"\n## {e.name}\n", 1)[1].split("\n## ", 1)[0]
        for name in e.hyperparameters():
            assert f"| `{name}` |" in section, (e.name, name)
        assert ":math:" not in section
        assert ".. math::" not in section
        assert "$$" in section  # its update, as display math


def test_listing_reads_the_catalog_and_renders_the_math():
    r = CliRunner().invoke(main, ["optimizers", "--math"])
    assert r.exit_code == 0, r.output
    for e in ENTRIES:
        assert f"{e.name}  (beyondadam.optim.{e.name})" in r.output
    assert ":math:" not in r.output
    assert "\\" not in r.output  # no raw LaTeX left
    assert "update:" not in r.output  # the update_rule strings are gone
    assert "v̂ₜ = max(v̂ₜ₋₁, vₜ)" in r.output  # AMSGrad's maximum, readable


def test_names_any_case_and_defaults_from_the_signature():
    r = CliRunner().invoke(main, ["optimizers", "AMSGRAD", "sgd"])
    assert r.exit_code == 0, r.output
    assert "defaults: lr=0.001, betas=(0.9, 0.999), eps=1e-08" in r.output
    assert "defaults: lr=required, weight_decay=0.0" in r.output
    assert "Adam  (" not in r.output


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\frac{\eta}{1 - \beta_1^t}", "η/(1 - β₁ᵗ)"),
        (r"\frac{m_t}{\sqrt{\hat v_t} + \epsilon}", "mₜ/(√v̂ₜ + ε)"),
        (r"\sqrt{v_t / (1 - \beta_2^t)}", "√(vₜ / (1 - β₂ᵗ))"),
        (r"\Pi_F^{A_t}\!\Big(x_t\Big)", "Π_F^(Aₜ)(xₜ)"),
        (r"\operatorname{diag}(d_t), \qquad \tfrac12", "diag(dₜ),   ½"),
        (r"0.96^{t\psi}", "0.96^(tψ)"),
    ],
)
def test_latex_to_text(latex, text):
    assert latex_to_text(latex) == text


def test_rst_math_blocks_and_roles():
    doc = "Step :math:`\\eta` = ``lr``.\n\n.. math::\n    x = \\frac{a}\n        {b + c}\n\nEnd."
    assert rst_to_text(doc) == "Step η = `lr`.\n\n    x = a/(b + c)\n\nEnd."
    assert (
        rst_to_markdown(doc) == "Step $\\eta$ = `lr`.\n\n$$\nx = \\frac{a}\n{b + c}\n$$\n\nEnd.\n"
    )
