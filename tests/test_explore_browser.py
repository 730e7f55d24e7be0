"""``beyondadam explore``: its compute and validation, and the served page driven in Chromium."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import beyondadam
from beyondadam.cli import main
from beyondadam.reporting import explore_compute as ec
from beyondadam.reporting.browser import find_chromium, open_page

# ------------------------------------------------------------------ compute and validation


def test_simulate_separates_adam_from_amsgrad():
    req = ec.ExploreRequest("paper_online", ("Adam", "AMSGrad"), 0.9, 0.99, 0.5, horizon=100_000)
    traj = ec.simulate(req)
    assert traj.labels == ["Adam", "AMSGrad (paper)"]
    assert traj.steps[-1] == 100_000
    assert traj.x.shape == traj.avg_regret.shape == (2, traj.steps.size)
    assert traj.x[0, -1] > 0.9  # Adam at the wrong corner
    assert traj.x[1, -1] < 0  # AMSGrad on the side of x* = -1
    assert str(traj.rates[1].verdict) == "converges"
    assert traj.avg_regret[0, -1] > traj.avg_regret[1, -1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"beta1": 1.5}, "beta"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr must be finite"),
        ({"horizon": 6_000_000}, "horizon must be an integer in"),
        ({"optimizers": ()}, "at least one optimizer"),
        ({"optimizers": ("NoSuchOpt",)}, "unknown optimizer"),
        ({"flavors": {"AMSGrad": "bogus"}}, "flavor"),
        ({"problem": "theorem1", "C": 1.5}, "C must be > 2"),
        ({"problem": "theorem2", "C": 10.5}, "integer >= 2"),
        ({"problem": "nope"}, "unknown problem"),
    ],
)
def test_invalid_requests_give_one_line_messages(change, message):
    base = {"problem": "paper_online", "optimizers": ("Adam", "AMSGrad"), "horizon": 1000}
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        ec.simulate(ec.ExploreRequest(**{**base, **change}))
    assert "\n" not in str(err.value)


def test_problems_and_hyperparameter_mapping():
    assert ec.make_problem("theorem2", 10).period == 10
    assert ec.make_problem("theorem3", 100).p == pytest.approx(1.1 / 101)
    assert ec.hyperparameters("Adam", 0.8, 0.9, 0.1)["betas"] == (0.8, 0.9)
    assert ec.hyperparameters("RMSProp", 0.8, 0.9, 0.1) == {"lr": 0.1, "alpha": 0.9}
    assert ec.hyperparameters("NAG", 0.8, 0.9, 0.1) == {"lr": 0.1, "momentum": 0.8}
    assert ec.flavors("AMSGrad") == ("paper", "pytorch", "optax")
    assert ec.flavors("Adam") == ()
    assert "RMSProp" in ec.atlas_optimizers()
    assert "SGD" not in ec.atlas_optimizers()


def test_atlas_cell_trajectory_reproduces_the_cell():
    res = ec.explore_atlas("paper_online", 3.0, "Adam", 0.5, grid=4, horizon=2000)
    for i, j in ((0, 0), (3, 2)):
        traj = ec.cell_trajectory(res, "Adam", i, j)
        assert traj.x[0, -1] == res.final_x["Adam"][i, j]
        assert traj.avg_regret[0, -1] == res.avg_regret["Adam"][i, j]
    with pytest.raises(ValueError, match="outside"):
        ec.cell_trajectory(res, "Adam", 4, 0)


def test_page_shows_errors_instead_of_raising():
    pytest.importorskip("panel", reason="the explorer needs Panel: pip install panel")
    from beyondadam.reporting.explorer import Explorer

    app = Explorer()
    app.horizon.value = 1000
    assert not app.message.visible
    assert "computed in" in app.timing.object
    app.beta1.value = 1.5
    assert app.message.visible
    assert "beta" in app.message.object
    app.beta1.value = 0.5
    assert not app.message.visible


def test_busy_explicit_port_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = CliRunner().invoke(main, ["explore", "--port", str(port), "--no-browser"])
    assert r.exit_code == 2
    assert "--port" in r.output
    assert "in use" in r.output
    assert "Traceback" not in r.output


# ------------------------------------------------------------------ the page in Chromium

_HELPERS = r"""
window.ba = {
  model(cls) {
    for (const m of Bokeh.documents[0].all_models)
      if ((m.css_classes || []).includes(cls)) return m;
    return null;
  },
  find(m, type) {
    if (m.type === type) return m;
    for (const c of (m.children || [])) { const r = ba.find(c, type); if (r) return r; }
    return null;
  },
  set(cls, value) { ba.find(ba.model(cls), 'Spinner').value = value; return true; },
  text() {
    let s = '';
    const walk = (n) => {
      if (n.nodeName === 'STYLE' || n.nodeName === 'SCRIPT') return;
      if (n.shadowRoot) walk(n.shadowRoot);
      if (n.nodeType === 3) s += n.textContent + ' ';
      for (const c of n.childNodes) walk(c);
    };
    walk(document.body);
    return s;
  },
  source(name) { return Bokeh.documents[0].get_model_by_name(name); },
  curve(name, k) {
    const m = ba.source(name);
    return m && m.data.x.length > k ? JSON.stringify(Array.from(m.data.x[k])) : null;
  },
  click(label) {
    const walk = (n) => {
      if (n.nodeName === 'BUTTON' && n.textContent.trim() === label) return n;
      for (const c of [...(n.shadowRoot ? [n.shadowRoot] : []), ...n.childNodes]) {
        const r = walk(c); if (r) return r;
      }
      return null;
    };
    const b = walk(document.body); if (b) b.click(); return !!b;
  },
};
true
"""


def _require_browser():
    if find_chromium() is None:
        pytest.skip(
            "Chromium not found at /usr/bin/chromium: install Debian's chromium package "
            "(apt-get install -y chromium) to drive the explorer in a browser"
        )
    pytest.importorskip(
        "websocket", reason="the websocket-client package drives Chromium: pip install it"
    )
    pytest.importorskip("panel", reason="the explorer needs Panel: pip install panel")


@contextlib.contextmanager
def _running_explorer():
    """Start ``beyondadam explore --port 0`` in a subprocess; stop it with SIGINT (Ctrl-C)."""
    env = {**os.environ, "PYTHONPATH": str(Path(beyondadam.__file__).parents[1])}
    cmd = [sys.executable, "-m", "beyondadam", "explore", "--port", "0", "--no-browser"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    url, seen = None, []
    deadline = time.monotonic() + 300
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"beyondadam explorer: (http://127\.0\.0\.1:\d+/)", line)
        url = found and found.group(1)
    try:
        assert url, f"the server printed no URL: {''.join(seen)}"
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            rest, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("the server did not stop on SIGINT")
        assert proc.returncode == 0, "".join(seen) + rest
        assert "Traceback" not in "".join(seen) + rest
        assert "stopped" in rest


@pytest.mark.slow
def test_explorer_in_chromium(tmp_path):
    _require_browser()
    with _running_explorer() as url:
        _drive(url, tmp_path)


def _drive(url, tmp_path):
    with open_page(url, width=1360, timeout=120) as page:
        page.wait_for("window.Bokeh && Bokeh.documents.length > 0", 60)
        page.evaluate(_HELPERS)
        before = page.wait_for("ba.curve('curves', 0)", 60)
        assert "computed in" in page.evaluate("ba.text()")
        # a slider's value, as typing into its box or dragging it sets it
        page.evaluate("ba.set('ba-beta2', 0.3)")
        after = page.wait_for(f"(c => c && c !== {before!r} && c)(ba.curve('curves', 0))", 60)
        assert not np.allclose(json.loads(before)[-5:], json.loads(after)[-5:])
        # an invalid value: the message shows, the server survives
        page.evaluate("ba.set('ba-beta1', 1.5)")
        page.wait_for("ba.model('ba-message').visible && ba.text().includes('Invalid input')", 30)
        text = page.evaluate("ba.text()")
        assert "betas[0]" in text or "beta" in text.split("Invalid input", 1)[1][:200]
        page.screenshot(tmp_path / "explore-error.png")
        page.evaluate("ba.set('ba-beta1', 0.9)")
        page.wait_for("!ba.model('ba-message').visible", 30)
        # back to beta2 = 0.99: the same curve again, to the last bit
        page.evaluate("ba.set('ba-beta2', 0.99)")
        page.wait_for(f"ba.curve('curves', 0) === {before!r}", 60)
        # the atlas: compute it, click a cell (select it, as the tap tool does)
        assert page.evaluate("ba.click('compute atlas')")
        page.wait_for("ba.source('atlas-cells').data.verdict.length > 0", 120)
        cells = "Bokeh.documents[0].get_model_by_name('atlas-cells')"
        k = page.evaluate(f"Array.from({cells}.data.verdict).indexOf('fails')")
        assert k >= 0, "Adam fails nowhere on the online problem's atlas"
        b1, b2 = page.evaluate(f"[{cells}.data.beta1[{k}], {cells}.data.beta2[{k}]]")
        page.evaluate(f"{cells}.selected.indices = [{k}]")
        label = page.wait_for("ba.source('cell-curves').data.label[0]", 60)
        assert label == f"Adam β1={b1:.4g} β2={b2:.4g}"
        shot = page.screenshot(tmp_path / "explore.png")
        assert page.console_errors() == []
        assert page.requests_outside(url) == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    keep = os.environ.get("BEYONDADAM_SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for png in tmp_path.glob("explore*.png"):
            shutil.copy(png, os.path.join(keep, png.name))
