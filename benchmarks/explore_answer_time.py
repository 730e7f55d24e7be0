"""The explorer's answer time: 5M steps of Adam and AMSGrad, on the server and in the browser.

Three numbers, each the median (and min/max) of ``--repeats`` runs after the kernels are warm:

- ``simulate``: :func:`beyondadam.reporting.explore_compute.simulate` alone (validation, the
  simulator, the regret rates);
- ``update``: a change of the beta2 widget, which runs the page's update function on the server
  (:meth:`Explorer.update`: ``simulate`` plus building the Bokeh plots and the table);
- ``round trip`` (with Chromium): in a browser on a served page, from setting beta2 in the page to
  the new curve arriving in the page's document (JavaScript clock), alternating two beta2 values.

    python benchmarks/explore_answer_time.py [--repeats 7] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

from beyondadam.reporting import explore_compute as ec

# A headless page's timers are throttled, so the page only stamps the start and the arrival;
# Python polls (every few ms) for the new curve.
_HELPERS_JS = """
window.ba = {
  curve() { const x = Bokeh.documents[0].get_model_by_name('curves').data.x;
    return x.length ? x[0] : null; },
  spinner() {
    const find = (n) => n.type === 'Spinner' ? n : (n.children || []).map(find).find(x => x);
    for (const m of Bokeh.documents[0].all_models)
      if ((m.css_classes || []).includes('ba-beta2')) return find(m);
  },
  start(value) { ba.before = ba.curve(); ba.t0 = performance.now(); ba.spinner().value = value;
    return true; },
  done() { const c = ba.curve(); return c && c !== ba.before ? performance.now() - ba.t0 : 0; },
};
true
"""


def _stats(name: str, seconds: list[float]) -> None:
    med = statistics.median(seconds)
    print(f"{name:>11}: median {med:.3f} s (min {min(seconds):.3f}, max {max(seconds):.3f}, "
          f"n = {len(seconds)})")  # fmt: skip


def _server_side(repeats: int) -> None:
    from beyondadam.reporting.explorer import Explorer, warm_up

    print(f"warm-up (numba kernels): {warm_up():.2f} s")
    req = ec.ExploreRequest("paper_online", ("Adam", "AMSGrad"), horizon=5_000_000)
    ec.simulate(req)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ec.simulate(req)
        times.append(time.perf_counter() - start)
    _stats("simulate", times)
    app = Explorer()  # its defaults: paper_online, Adam and AMSGrad, 5M steps
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        app.beta2.value = (0.999, 0.99)[k % 2]  # the widget's watcher runs update()
        times.append(time.perf_counter() - start)
    _stats("update", times)


def _round_trip(repeats: int) -> None:
    from beyondadam.reporting.browser import find_chromium, open_page

    if find_chromium() is None:
        print("round trip: skipped (no Chromium)")
        return
    cmd = [sys.executable, "-m", "beyondadam", "explore", "--port", "0", "--no-browser"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        while url is None:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the explorer exited before printing its URL")
            found = re.search(r"beyondadam explorer: (\S+)", line)
            url = found and found.group(1)
        with open_page(url, timeout=120) as page:
            page.wait_for("window.Bokeh && Bokeh.documents.length > 0", 60)
            page.wait_for("Bokeh.documents[0].get_model_by_name('curves').data.x.length", 60)
            page.evaluate(_HELPERS_JS)
            ms = []
            for k in range(repeats + 1):
                page.evaluate(f"ba.start({(0.999, 0.99)[k % 2]})")
                while not (elapsed := page.evaluate("ba.done()")):
                    time.sleep(0.002)
                ms.append(elapsed)
            ms = ms[1:]
        _stats("round trip", [m / 1000 for m in ms])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def main() -> None:
    """Parse the options and print the three timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    _server_side(args.repeats)
    if not args.no_browser:
        _round_trip(args.repeats)


if __name__ == "__main__":
    main()
