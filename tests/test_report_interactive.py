"""The interactive atlas and family figures of report.html: embedded data, offline, clickable."""

import json
import os
import re
import shutil

import numpy as np
import pytest

from beyondadam.reporting.browser import find_chromium, open_page
from beyondadam.reporting.interactive import (
    TRAJECTORY_POINTS,
    VERDICT_CODES,
    atlas_data,
    decode_array,
    encode_array,
)
from beyondadam.reporting.pipeline import rerender
from beyondadam.reporting.sample import SAMPLE_ATLAS_GRID, write_sample


@pytest.fixture
def report(tmp_path):
    write_sample(tmp_path)
    _, page = rerender(tmp_path)
    return page


def _payloads(page: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page, re.S)
    return {json.loads(body)["kind"]: json.loads(body) for _, body in found}


def test_page_embeds_data_and_fetches_nothing(report):
    page = report.read_text()
    assert not re.search(r"https?://", page)  # no URL at all, so none to a script or a style
    assert not re.search(r"<script[^>]*\bsrc\s*=", page)
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert page.count("<script>") == 1  # the drawing code, once
    data = _payloads(page)
    assert set(data) == {"atlas", "family"}
    stored = json.loads((report.parent / "atlas" / "atlas_interactive.json").read_text())
    assert data["atlas"] == stored
    n = SAMPLE_ATLAS_GRID
    cells = decode_array(stored["optimizers"][0]["cells"])
    traj = decode_array(stored["traj_x"])
    assert cells.shape == (n, n)
    assert traj.shape == (3 * n * n, len(stored["steps"]))
    assert {r[0] for r in data["family"]["runs"]} == {0, 1}
    # the static PNGs stay in the page (and in report.md)
    assert page.count('src="data:image/png;base64,') == 3
    md = (report.parent / "report.md").read_text()
    assert "(atlas/atlas.png)" in md
    assert "(family/family.png)" in md


def test_encoding_round_trip_and_float16_range():
    a = np.array([[1e-7, -2.5, np.nan], [7e4, 1.0, 0.3]])
    back = decode_array(json.loads(json.dumps(encode_array(a, "f2"))))
    assert back.shape == (2, 3)
    assert np.isnan(back[0, 2])
    assert back[1, 0] == np.finfo(np.float16).max  # clipped, not inf
    assert np.allclose(back[[0, 1, 1], [1, 1, 2]], [-2.5, 1.0, 0.3], rtol=1e-3)
    ids = np.arange(6, dtype=np.int64).reshape(2, 3)
    assert np.array_equal(decode_array(encode_array(ids, "i4")), ids)


def test_atlas_keeps_trajectories_without_changing_verdicts():
    from beyondadam.sim.atlas import atlas
    from beyondadam.sim.engine import log_checkpoints

    kw = {"grid": 4, "horizon": 3000}
    plain = atlas("paper_online", ("Adam", "AMSGrad"), **kw)
    with pytest.raises(ValueError, match="trajectory_points"):
        atlas_data(plain)
    full = atlas("paper_online", ("Adam", "AMSGrad"), trajectory_points=TRAJECTORY_POINTS, **kw)
    for name in plain.final_x:
        assert np.array_equal(plain.exponent[name], full.exponent[name], equal_nan=True)
        assert np.array_equal(plain.verdict[name], full.verdict[name])
    tr = full.trajectories
    assert (tr.steps[0], tr.steps[-1]) == (1, 3000)
    rows = tr.cells["Adam"]
    assert np.allclose(tr.x[rows, -1], full.final_x["Adam"], atol=1e-6)
    data = atlas_data(full)
    # the page gets the log-spaced steps only, not the rate checkpoints of the last decade
    wanted = log_checkpoints(3000, TRAJECTORY_POINTS)
    assert tr.steps.size > wanted.size
    assert data["steps"] == wanted.tolist()
    cols = np.searchsorted(tr.steps, wanted)
    assert np.allclose(decode_array(data["traj_x"]), tr.x[:, cols], atol=2e-3)
    codes = decode_array(data["optimizers"][1]["v"])
    assert [VERDICT_CODES[c] for c in codes.ravel()] == list(full.verdict["AMSGrad"].ravel())


# ---------------------------------------------------------------- in a browser


def _require_browser():
    if find_chromium() is None:
        pytest.skip(
            "Chromium not found at /usr/bin/chromium: install Debian's chromium package "
            "(apt-get install -y chromium) to click through the interactive report"
        )
    pytest.importorskip(
        "websocket", reason="the websocket-client package drives Chromium: pip install it"
    )


_CANVAS_BOX = """(() => {{ const c = document.querySelector('{sel}');
  c.scrollIntoView({{block: 'center'}}); const b = c.getBoundingClientRect();
  return [b.left, b.top, b.width, b.height]; }})()"""
# the atlas canvas's margins (interactive.js: M)
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 24, 8, 38


def _cell_centre(box: list[float], n: int, i: int, j: int) -> tuple[float, float]:
    left, top, width, height = box
    cw, ch = (width - _LEFT - _RIGHT) / n, (height - _TOP - _BOTTOM) / n
    return left + _LEFT + (i + 0.5) * cw, top + _TOP + (n - 1 - j + 0.5) * ch


@pytest.mark.slow
def test_click_on_atlas_cell_draws_its_trajectory(report, tmp_path):
    _require_browser()
    stored = json.loads((report.parent / "atlas" / "atlas_interactive.json").read_text())
    steps, tx, tr = stored["steps"], decode_array(stored["traj_x"]), decode_array(stored["traj_r"])
    n, (i, j) = SAMPLE_ATLAS_GRID, (3, 5)
    shot = tmp_path / "interactive.png"
    with open_page(report, offline=True) as page:
        assert page.evaluate("document.querySelectorAll('div.ia[data-ready]').length") == 2
        assert page.evaluate("document.querySelector('.ia-atlas').iaState") is None
        box = page.evaluate(_CANVAS_BOX.format(sel=".ia-atlas canvas[data-optimizer=ADOPT]"))
        x, y = _cell_centre(box, n, i, j)
        page.hover(x, y)
        tip = page.evaluate("document.querySelector('.ia-atlas .ia-tip').textContent")
        b1, b2 = stored["beta1"][i], stored["beta2"][j]
        assert tip.startswith(f"ADOPT: β1 = {b1:.4g}, β2 = {b2:.4g}")
        assert "verdict: converges" in tip
        assert "exponent = 0.5" in tip
        page.click(x, y)
        state = page.evaluate("document.querySelector('.ia-atlas').iaState")
        assert (state["optimizer"], state["i"], state["j"]) == ("ADOPT", i, j)
        drawn = {s["name"]: s for s in state["series"]}
        assert [s["selected"] for s in state["series"]] == [False, False, True]
        for o in stored["optimizers"]:
            row = int(decode_array(o["cells"])[i, j])
            assert drawn[o["name"]]["steps"] == steps
            assert drawn[o["name"]]["x"] == tx[row].astype(float).tolist()
            assert drawn[o["name"]]["r"] == tr[row].astype(float).tolist()
        assert drawn["Adam"]["x"][-1] > 0.99  # the sample's Adam fails in this cell
        # a cell elsewhere replaces the selection
        box = page.evaluate(_CANVAS_BOX.format(sel=".ia-atlas canvas[data-optimizer=Adam]"))
        page.click(*_cell_centre(box, n, n - 1, n - 1))
        state = page.evaluate("document.querySelector('.ia-atlas').iaState")
        assert (state["optimizer"], state["i"], state["j"]) == ("Adam", n - 1, n - 1)
        assert state["series"][0]["x"][-1] < -0.99
        page.click(*_cell_centre(box, n, i, j))
        # the family grid answers a hover too
        fbox = page.evaluate(_CANVAS_BOX.format(sel=".ia-family canvas"))
        page.hover(fbox[0] + 150 + 43, fbox[1] + 96 + 9)  # first optimizer, first problem
        ftip = page.evaluate("document.querySelector('.ia-family .ia-tip').textContent")
        assert ftip.startswith("Adam on paper_online")
        assert "verdict: fails" in ftip
        page.screenshot(shot)
        assert page.console_errors() == []
        assert page.external_requests() == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("BEYONDADAM_SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, "report-interactive.png"))


@pytest.mark.slow
def test_offline_page_reports_a_request_it_cannot_make(report):
    _require_browser()
    page_text = report.read_text().replace(
        "</main>", '<img alt="remote" src="http://127.0.0.1:9/x.png"></main>'
    )
    report.write_text(page_text)
    with open_page(report, offline=True) as page:
        assert page.external_requests() == ["http://127.0.0.1:9/x.png"]
        assert any("network" in e or "ERR_" in e for e in page.console_errors())
