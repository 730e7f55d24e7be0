import json
import re

import pytest
from click.testing import CliRunner

from beyondadam.cli import main
from beyondadam.reporting.claims import CLAIMS
from beyondadam.reporting.render import render_html, render_markdown, write_report
from beyondadam.reporting.sample import write_sample


@pytest.fixture
def sample_dir(tmp_path):
    write_sample(tmp_path)
    return tmp_path


def _verdict_cell(page: str, claim_id: str) -> str:
    row = re.search(rf'<tr id="claim-{claim_id}">(.*?)</tr>', page, re.S)
    assert row, f"no row for claim {claim_id}"
    return re.findall(r'<span class="verdict [^"]*">([^<]*)</span>', row.group(1))[0]


def test_html_is_self_contained(sample_dir):
    data = json.loads((sample_dir / "results.json").read_text())
    page = render_html(data, sample_dir)
    srcs = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page)
    assert len(srcs) == 4  # the four sample figures
    assert all(s.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for s in srcs)
    assert not re.search(r"<script[^>]*\bsrc", page.lower())  # inline scripts only
    assert "url(" not in page  # no CSS fetches either
    assert "@import" not in page
    assert not re.search(r"https?://", page)
    for claim in CLAIMS:
        assert f'id="claim-{claim.id}"' in page
    assert "Environment" in page
    assert "Stages" in page


def test_html_escapes_text(sample_dir):
    data = json.loads((sample_dir / "results.json").read_text())
    data["stages"]["cifarnet"]["reason"] = "<b>bad</b> & worse"
    page = render_html(data, sample_dir)
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in page
    assert "<b>bad</b>" not in page


def test_missing_figure_is_reported(sample_dir):
    data = json.loads((sample_dir / "results.json").read_text())
    (sample_dir / data["stages"]["figure1"]["figures"][0]["path"]).unlink()
    page = render_html(data, sample_dir)
    assert "Figure file missing" in page
    assert page.count("<img ") == 3


def test_markdown_has_claims_table_and_figures(sample_dir):
    data = json.loads((sample_dir / "results.json").read_text())
    md = render_markdown(data)
    table = [line for line in md.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(table) == len(CLAIMS)
    assert "![Sample figure (PNG)](figure1/sample.png)" in md
    assert "To run it:" in md  # the skipped CIFAR stage says how to run it
    md_path, html_path = write_report(data, sample_dir)
    assert md_path.read_text() == md
    assert html_path.is_file()


def test_report_command_rerenders_from_stored_numbers(sample_dir):
    runner = CliRunner()
    res = runner.invoke(main, ["report", str(sample_dir)])
    assert res.exit_code == 0, res.output
    page = (sample_dir / "report.html").read_text()
    assert _verdict_cell(page, "mnist-logreg-train") == "holds"
    assert _verdict_cell(page, "online-x") == "holds"

    # edit stored numbers: AMSGrad's training loss now above Adam's, Adam's x_T at -1
    path = sample_dir / "results.json"
    data = json.loads(path.read_text())
    data["stages"]["mnist-logreg"]["numbers"]["optimizers"]["amsgrad"]["final_train_loss"] = [
        0.5,
        0.51,
        0.52,
    ]
    data["stages"]["figure1"]["numbers"]["online"]["optimizers"]["adam"]["x_T_seeds"] = [-1.0]
    path.write_text(json.dumps(data))
    res = runner.invoke(main, ["report", str(sample_dir)])
    assert res.exit_code == 0, res.output
    page = (sample_dir / "report.html").read_text()
    assert _verdict_cell(page, "mnist-logreg-train") == "not supported"
    assert _verdict_cell(page, "online-x") == "not supported"
    md = (sample_dir / "report.md").read_text()
    assert "Adam's is lower, beyond the seed spread" in md


def test_report_command_without_results(tmp_path):
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code != 0
    assert "no results.json" in res.output
