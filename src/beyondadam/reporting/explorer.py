"""The explorer web app (``beyondadam explore``): the counterexamples, live, in a browser.

A Panel (HoloViz) page served by this Python process: every change of a widget reruns the
simulator here, on the server, where numba runs 5M steps of a few optimizers in well under a
second, and the page only draws the Bokeh plots it gets back.  Panel bundles its JavaScript and
Bokeh's in its wheels and serves them itself, so the page loads nothing from the network.

Widgets -> :class:`~beyondadam.reporting.explore_compute.ExploreRequest` ->
:func:`~beyondadam.reporting.explore_compute.simulate` -> plots of x_t and R_t / t (log x) and a
table of x_T, R_T / T, the regret exponent and the verdict; the atlas panel draws
:func:`~beyondadam.reporting.explore_compute.explore_atlas` as a heatmap whose cells, clicked,
plot their trajectory.  A :class:`ValueError` (a bad value, a refused hyperparameter) is shown in
the page's message box.
"""

from __future__ import annotations

import html
import math
import socket
from typing import Any

import numpy as np

from beyondadam.reporting import explore_compute as ec
from beyondadam.sim import beta_grid

__all__ = ["CurvePlots", "Explorer", "free_port", "port_in_use", "serve"]

#: one colour per optimizer line (colour-blind safe, Okabe and Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
VERDICT_COLOURS = {"converges": "#4daf4a", "undecided": "#ffd92f", "fails": "#e41a1c"}
DEFAULT_OPTIMIZERS = ("Adam", "AMSGrad")


class CurvePlots:
    """x_t and R_t / t against t (log axes), one line per optimizer, updated in place.

    One data source per pair of plots (a multi-line): a new answer replaces its data, so the page
    patches two columns instead of rebuilding the figures.
    """

    def __init__(self, name: str, height: int = 300, width: int = 460) -> None:
        from bokeh.layouts import row
        from bokeh.models import ColumnDataSource
        from bokeh.plotting import figure

        opts = {"x_axis_type": "log", "height": height, "width": width,
                "tools": "pan,wheel_zoom,reset"}  # fmt: skip
        self.source = ColumnDataSource(
            {"label": [], "t": [], "x": [], "r": [], "colour": []}, name=name
        )
        self.optimum = ColumnDataSource({"t": [1, 10], "x": [-1, -1]})
        self.fx = figure(title="x_t", x_axis_label="t", y_range=(-1.05, 1.05), **opts)
        self.fr = figure(title="R_t / t (log scale; values <= 0 drawn at 1e-8)", x_axis_label="t",
                         y_axis_type="log", **opts)  # fmt: skip
        self.fx.line("t", "x", source=self.optimum, color="grey", line_dash="dashed")
        self.fx.multi_line("t", "x", source=self.source, color="colour", line_width=2)
        self.fr.multi_line("t", "r", source=self.source, color="colour", line_width=2,
                           legend_field="label")  # fmt: skip
        # one legend (the colours are shared); R_t / t usually falls, so its top right is free.
        self.fr.legend.location = "top_right"
        self.fr.legend.label_text_font_size = "8pt"
        self.fr.legend.background_fill_alpha = 0.7
        self.figures = row(self.fx, self.fr)

    def show(self, traj: ec.Trajectories, title: str) -> None:
        """Draw ``traj``."""
        n = len(traj.labels)
        self.fx.title.text = f"x_t: {title} (dashed: x*)"
        self.optimum.data = {"t": [1, int(traj.steps[-1])], "x": [traj.problem.optimum] * 2}
        self.source.data = {
            "label": list(traj.labels),
            "t": [traj.steps] * n,
            "x": list(traj.x),
            "r": list(np.maximum(traj.avg_regret, 1e-8)),
            "colour": [PALETTE[k % len(PALETTE)] for k in range(n)],
        }


def _table(traj: ec.Trajectories) -> str:
    """An HTML table: final x_T, R_T / T, the regret exponent and the verdict per optimizer."""
    rows = []
    for k, label in enumerate(traj.labels):
        rate = traj.rates[k]
        colour = VERDICT_COLOURS.get(str(rate.verdict), "#ddd")
        exp = "n/a" if math.isnan(rate.exponent) else f"{rate.exponent:.2f}"
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{traj.x[k, -1]:+.4f}</td>"
            f"<td>{traj.avg_regret[k, -1]:.4g}</td><td>{exp}</td>"
            f"<td style='background:{colour}' class='verdict'>{rate.verdict}</td></tr>"
        )
    head = "<tr><th>optimizer</th><th>x_T</th><th>R_T/T</th><th>exponent p</th><th>verdict</th>"
    return (
        "<table class='rates'>" + head + "</tr>" + "".join(rows) + "</table>"
        "<p style='font-size:85%'>R_t ≈ c t<sup>p</sup> fitted over the last decade; "
        "converges if p ≤ 0.75, fails if p ≥ 0.9 (beyondadam.sim.rates).</p>"
    )


class Explorer:
    """The page: widgets, plots and callbacks of one browser session."""

    def __init__(self) -> None:
        import panel as pn

        self.pn = pn
        names = ec.simulated_optimizers()
        slider = pn.widgets.EditableFloatSlider
        self.problem = pn.widgets.Select(
            label="problem", options={v: k for k, v in ec.PROBLEMS.items()}, value="paper_online"
        )
        self.optimizers = pn.widgets.MultiChoice(
            label="optimizers", options=names, value=list(DEFAULT_OPTIMIZERS)
        )
        self.flavors = {
            n: pn.widgets.Select(label=f"{n} flavor", options=list(ec.flavors(n)))
            for n in names
            if ec.flavors(n)
        }
        # css_classes name the widgets for tests/test_explore_browser.py.
        self.beta1 = slider(label="beta1", start=0.0, end=0.999, step=0.001, value=0.9,
                            css_classes=["ba-beta1"])  # fmt: skip
        self.beta2 = slider(label="beta2", start=0.0, end=0.9999, step=0.0001, value=0.99,
                            css_classes=["ba-beta2"])  # fmt: skip
        self.lr = slider(label="lr (lr_t = lr / sqrt(t))", start=0.001, end=2.0, step=0.001,
                         value=0.5, css_classes=["ba-lr"])  # fmt: skip
        self.C = slider(label="C (Theorems 1-3)", start=2.5, end=200.0, step=0.5, value=3.0,
                        css_classes=["ba-C"])  # fmt: skip
        self.horizon = pn.widgets.Select(
            label="horizon T", options={f"{h:,}": h for h in ec.HORIZONS}, value=5_000_000
        )
        self.message = pn.pane.Alert(
            "", alert_type="danger", visible=False, css_classes=["ba-message"]
        )
        self.timing = pn.pane.Markdown("", css_classes=["ba-timing"])
        self.curves = CurvePlots("curves")
        self.plots = pn.pane.Bokeh(self.curves.figures)
        self.table = pn.pane.HTML("", name="rates")
        # the atlas panel
        self.atlas_opt = pn.widgets.Select(
            label="atlas optimizer", options=ec.atlas_optimizers(), value="Adam"
        )
        self.atlas_button = pn.widgets.Button(label="compute atlas", color="primary")
        self.atlas_plot = pn.pane.Bokeh(self._heatmap(), visible=False)
        self.atlas_info = pn.pane.Markdown(
            f"{ec.ATLAS_GRID} x {ec.ATLAS_GRID} (beta1, beta2) cells, log-spaced in [0, 0.9999], "
            f"{ec.ATLAS_HORIZON:,} steps each, on the problem, lr and C above. Click a cell."
        )
        self.cell_curves = CurvePlots("cell-curves", width=400)
        self.cell_plots = pn.pane.Bokeh(self.cell_curves.figures, visible=False)
        self._atlas: Any = None
        for w in (self.problem, self.optimizers, self.beta1, self.beta2, self.lr, self.C,
                  self.horizon, *self.flavors.values()):  # fmt: skip
            w.param.watch(self._changed, "value")
        self.atlas_button.on_click(self._compute_atlas)
        self._show_flavors()
        self.update()

    # ----------------------------------------------------------------------------- callbacks

    def request(self) -> ec.ExploreRequest:
        """The widgets' values as a request."""
        return ec.ExploreRequest(
            problem=self.problem.value, optimizers=tuple(self.optimizers.value),
            beta1=self.beta1.value, beta2=self.beta2.value, lr=self.lr.value, C=self.C.value,
            horizon=self.horizon.value, flavors={n: w.value for n, w in self.flavors.items()},
        )  # fmt: skip

    def _show_flavors(self) -> None:
        for n, w in self.flavors.items():
            w.visible = n in self.optimizers.value
        self.C.visible = self.problem.value in ec.USES_C

    def _error(self, text: str) -> None:
        self.message.object = (
            f"**Invalid input:** {html.escape(text)}  \n(the plots below are still those of the "
            "last valid inputs)"
        )
        self.message.visible = True

    def _changed(self, _event: object = None) -> None:
        self._show_flavors()
        self.update()

    def update(self) -> None:
        """Rerun the simulation for the current widgets, or show why it cannot run."""
        try:
            traj = ec.simulate(self.request())
        except ValueError as exc:
            self._error(str(exc))
            return
        self.message.visible = False
        self.curves.show(traj, traj.problem.name)
        self.table.object = _table(traj)
        n = len(traj.labels)
        self.timing.object = (
            f"computed in **{traj.seconds:.2f} s** ({int(traj.steps[-1]):,} steps x {n} "
            f"optimizer{'s' if n > 1 else ''}; simulator kernel {traj.kernel_seconds:.2f} s)"
        )

    def _compute_atlas(self, _event: object = None) -> None:
        try:
            res = ec.explore_atlas(self.problem.value, self.C.value, self.atlas_opt.value,
                                   self.lr.value)  # fmt: skip
        except ValueError as exc:
            self._error(str(exc))
            return
        self.message.visible = False
        self._atlas = res
        self._show_atlas(res)
        self.atlas_info.object = (
            f"{res.problem.name}, {self.atlas_opt.value}, lr = {res.meta['lr']:g}: "
            f"{res.beta1.size} x {res.beta2.size} cells x {res.horizon:,} steps "
            f"({res.configs_run} distinct runs) in {res.seconds:.2f} s. Green: converges, "
            "yellow: undecided, red: fails (regret exponent of the last decade). Hover for "
            "values; click a cell for its trajectory."
        )

    def _heatmap(self) -> Any:
        """The atlas figure (empty until computed): verdict per cell, hover values, tap."""
        from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, TapTool
        from bokeh.plotting import figure

        cols = ("u1", "u2", "beta1", "beta2", "x", "r", "p", "verdict", "colour")
        self.cells = ColumnDataSource({c: [] for c in cols}, name="atlas-cells")
        # log-spaced betas: plot against u = -log10(1 - beta) so the cells are equal squares.
        u = -np.log10(1 - beta_grid(ec.ATLAS_GRID, "log"))
        w = (u[-1] - u[0]) / (u.size - 1)
        fig = figure(title="verdict per (β1, β2)", width=420, height=420, tools="reset",
                     x_axis_label="β1", y_axis_label="β2",
                     x_range=(u[0] - w, u[-1] + w), y_range=(u[0] - w, u[-1] + w))  # fmt: skip
        fig.rect("u1", "u2", w, w, source=self.cells, fill_color="colour", line_color=None,
                 nonselection_fill_alpha=0.5, selection_line_color="black")  # fmt: skip
        ticks = [0, 1, 2, 3, 4]
        for axis in (fig.xaxis, fig.yaxis):
            axis.ticker = FixedTicker(ticks=ticks)
            axis.major_label_overrides = {t: f"{1 - 10.0**-t:g}" for t in ticks}
        curve = np.concatenate([np.linspace(0, 0.99, 60), 1 - np.geomspace(1e-2, 1e-4, 40)])
        b2 = curve**2  # beta1 = sqrt(beta2)
        keep = b2 <= 1 - 10.0 ** -u[-1]
        fig.line(-np.log10(1 - curve[keep]), -np.log10(1 - b2[keep]), color="black",
                 line_dash="dashed", legend_label="β1 = sqrt(β2)")  # fmt: skip
        fig.legend.location = "top_left"
        fig.add_tools(
            HoverTool(tooltips=[("β1", "@beta1{0.0000}"), ("β2", "@beta2{0.0000}"),
                                ("x_T", "@x{+0.000}"), ("R_T/T", "@r{0.000e}"),
                                ("exponent", "@p{0.00}"), ("verdict", "@verdict")]),
            TapTool(),
        )  # fmt: skip
        self.cells.selected.on_change("indices", self._cell_clicked)
        self.atlas_figure = fig
        return fig

    def _show_atlas(self, res: Any) -> None:
        name = next(iter(res.final_x))
        u1, u2 = -np.log10(1 - res.beta1), -np.log10(1 - res.beta2)
        i, j = (a.ravel() for a in np.meshgrid(np.arange(u1.size), np.arange(u2.size),
                                               indexing="ij"))  # fmt: skip
        verdict = res.verdict[name].ravel()
        self.cells.selected.indices = []
        self.cells.data = {
            "u1": u1[i], "u2": u2[j], "beta1": res.beta1[i], "beta2": res.beta2[j],
            "x": res.final_x[name].ravel(), "r": res.avg_regret[name].ravel(),
            "p": res.exponent[name].ravel(), "verdict": verdict,
            "colour": [VERDICT_COLOURS[v] for v in verdict],
        }  # fmt: skip
        self.atlas_figure.title.text = f"{name} on {res.problem.name}: verdict per (β1, β2)"
        self.atlas_plot.visible = True
        self.cell_plots.visible = False

    def _cell_clicked(self, _attr: str, _old: list[int], new: list[int]) -> None:
        if not new or self._atlas is None:
            return
        res = self._atlas
        name = next(iter(res.final_x))
        k = new[0]
        i, j = divmod(k, res.beta2.size)
        try:
            traj = ec.cell_trajectory(res, name, i, j)
        except ValueError as exc:
            self._error(str(exc))
            return
        self.cell_curves.show(traj, traj.labels[0])
        self.cell_plots.visible = True

    # ----------------------------------------------------------------------------- layout

    def layout(self) -> Any:
        """The page."""
        pn = self.pn
        controls = pn.Column(
            self.problem, self.C, self.optimizers, *self.flavors.values(), self.beta1,
            self.beta2, self.lr, self.horizon, width=340,
        )  # fmt: skip
        head = pn.pane.Markdown(
            "## beyondadam explorer: Adam, AMSGrad and beyond on the paper's counterexamples\n"
            "Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond* (ICLR 2018). "
            "f_t(x) = g_t x on [-1, 1], start x_1 = 0, lr_t = lr / sqrt(t), exact float64 "
            "simulation on this machine."
        )
        results = pn.Column(self.message, self.timing, self.plots, self.table)
        atlas = pn.Column(
            pn.pane.Markdown("### Atlas of one optimizer"),
            pn.Row(self.atlas_opt, self.atlas_button),
            self.atlas_info,
            pn.Row(self.atlas_plot, self.cell_plots),
        )
        return pn.Column(head, pn.Row(controls, results), atlas, sizing_mode="stretch_width")


def port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` cannot be bound (something else listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def warm_up() -> float:
    """Compile (or load from numba's cache) every simulator kernel; returns the seconds taken.

    Run before the server starts, so that the first change of a widget answers at full speed.
    """
    import time

    from beyondadam.sim import warmup

    start = time.perf_counter()
    warmup()
    return time.perf_counter() - start


def serve(host: str, port: int, *, open_browser: bool, on_ready: Any = None) -> None:
    """Serve the explorer on ``host:port`` until interrupted (Ctrl-C).

    ``on_ready(url)`` is called once the server listens.  Panel serves its own and Bokeh's
    JavaScript from this process (no CDN): the page works offline.
    """
    import panel as pn

    pn.extension(inline=True)
    url = f"http://{host}:{port}/"
    # the browser's websocket must come from a page of this server; any address when bound to all
    origins = [f"{h}:{port}" for h in (host, "localhost", "127.0.0.1")]
    if host in ("0.0.0.0", "::"):
        origins = ["*"]
    server = pn.serve(
        lambda: Explorer().layout(), port=port, address=host, show=False, start=False,
        websocket_origin=origins, title="beyondadam explorer",
    )  # fmt: skip
    server.start()
    if on_ready is not None:
        on_ready(url)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.io_loop.start()
    finally:
        server.stop()
