/* Interactive figures of report.html (beyondadam.reporting.interactive): the atlas and the
   family grid drawn on <canvas> from JSON embedded in the page; no library, no network.
   Each figure is a <div class="ia" data-payload="ID"> whose data is <script id="ID">. */
(function () {
  "use strict";
  var VERDICT = ["converges", "undecided", "fails"];
  var VCOL = ["#4daf4a", "#ffd92f", "#e41a1c"];
  var PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];
  var RAMPS = {
    x: [[0, [59, 76, 192]], [0.5, [221, 221, 221]], [1, [180, 4, 38]]],
    r: [[0, [68, 1, 84]], [0.25, [59, 82, 139]], [0.5, [33, 145, 140]], [0.75, [94, 201, 98]],
        [1, [253, 231, 37]]],
    p: [[0, [0, 0, 4]], [0.25, [81, 18, 124]], [0.5, [183, 55, 121]], [0.75, [252, 137, 97]],
        [1, [252, 253, 191]]]
  };

  function half(h) { // IEEE 754 binary16 -> number (Float16Array is too new to rely on)
    var s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
    if (e === 0) return s * f * Math.pow(2, -24);
    if (e === 31) return f ? NaN : s * Infinity;
    return s * (1 + f / 1024) * Math.pow(2, e - 15);
  }
  function decode(a) { // {dtype, shape, b64} -> flat array (little-endian)
    var bin = atob(a.b64), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
    for (var k = 0; k < bin.length; k++) u8[k] = bin.charCodeAt(k);
    if (a.dtype === "f4") return new Float32Array(buf);
    if (a.dtype === "i4") return new Int32Array(buf);
    if (a.dtype === "u1") return u8;
    var u16 = new Uint16Array(buf), out = new Float64Array(u16.length);
    for (k = 0; k < u16.length; k++) out[k] = half(u16[k]);
    return out;
  }
  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "\u2014";
    var a = Math.abs(v);
    if (v !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }
  // An exponent as the CLI and the static figure print it: two decimals, no "-0.00".
  function exponent(v) {
    if (v === null || v === undefined || isNaN(v)) return "\u2014";
    return (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
  }
  function ramp(name, t) {
    var st = RAMPS[name];
    t = Math.max(0, Math.min(1, isNaN(t) ? 0 : t));
    for (var k = 1; k < st.length; k++) {
      if (t <= st[k][0]) {
        var a = st[k - 1], b = st[k], u = (t - a[0]) / (b[0] - a[0]), c = [];
        for (var m = 0; m < 3; m++) c.push(Math.round(a[1][m] + u * (b[1][m] - a[1][m])));
        return "rgb(" + c.join(",") + ")";
      }
    }
    return "rgb(" + st[st.length - 1][1].join(",") + ")";
  }
  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function canvas(parent, w, h) {
    var c = el("canvas", "", parent);
    c.width = w; c.height = h; c.style.width = w + "px"; c.style.height = h + "px";
    return c;
  }
  function at(c, ev) {
    var r = c.getBoundingClientRect();
    return [(ev.clientX - r.left) * c.width / r.width, (ev.clientY - r.top) * c.height / r.height];
  }
  function tip(box, ev, lines) {
    box.tip.textContent = lines.join("\n");
    box.tip.style.display = "block";
    var r = box.root.getBoundingClientRect();
    box.tip.style.left = (ev.clientX - r.left + 14) + "px";
    box.tip.style.top = (ev.clientY - r.top + 14) + "px";
  }
  function interp(v, xs) { // fractional index of v in the increasing array xs
    if (v <= xs[0]) return 0;
    for (var k = 1; k < xs.length; k++) {
      if (v <= xs[k]) return k - 1 + (v - xs[k - 1]) / (xs[k] - xs[k - 1]);
    }
    return xs.length - 1;
  }

  // ------------------------------------------------------------------ atlas
  var M = {l: 46, r: 24, t: 8, b: 38};

  function atlasValue(o, mode, k, rng) {
    if (mode === "v") return VCOL[o.v[k]] || "#999";
    if (mode === "x") return ramp("x", (o.x[k] + 1) / 2);
    if (mode === "p") return ramp("p", o.p[k] / 1.2);
    var lr = Math.log10(Math.max(o.r[k], rng[0]));
    return ramp("r", (lr - Math.log10(rng[0])) / (Math.log10(rng[1]) - Math.log10(rng[0]) || 1));
  }

  function drawAtlas(box) {
    var d = box.data, n1 = d.beta1.length, n2 = d.beta2.length, mode = box.mode.value;
    box.maps.forEach(function (c, oi) {
      var o = box.opts[oi], g = c.getContext("2d"), W = c.width - M.l - M.r;
      var H = c.height - M.t - M.b, cw = W / n1, ch = H / n2;
      g.clearRect(0, 0, c.width, c.height);
      for (var i = 0; i < n1; i++) {
        for (var j = 0; j < n2; j++) {
          // whole-pixel edges: fractional ones leave anti-aliased seams between cells
          var x0 = Math.round(M.l + i * cw), y0 = Math.round(M.t + (n2 - 1 - j) * ch);
          g.fillStyle = atlasValue(o, mode, i * n2 + j, box.rrange);
          g.fillRect(x0, y0, Math.round(M.l + (i + 1) * cw) - x0,
                     Math.round(M.t + (n2 - j) * ch) - y0);
        }
      }
      g.strokeStyle = "#000"; g.setLineDash([5, 4]); g.lineWidth = 1.2; g.beginPath();
      for (var s = 0, first = true; s <= 200; s++) { // the curve beta1 = sqrt(beta2)
        var b1 = d.beta1[0] + (d.beta1[n1 - 1] - d.beta1[0]) * (1 - Math.pow(1 - s / 200, 3));
        if (b1 * b1 < d.beta2[0]) continue;
        var px = M.l + (interp(b1, d.beta1) + 0.5) * cw;
        var py = M.t + H - (interp(b1 * b1, d.beta2) + 0.5) * ch;
        if (first) g.moveTo(px, py); else g.lineTo(px, py);
        first = false;
      }
      g.stroke(); g.setLineDash([]);
      if (box.sel && box.sel[0] === oi) {
        g.strokeStyle = "#000"; g.lineWidth = 2;
        g.strokeRect(M.l + box.sel[1] * cw, M.t + (n2 - 1 - box.sel[2]) * ch, cw, ch);
      }
      g.fillStyle = "#1d2430"; g.font = "11px sans-serif"; g.textAlign = "center";
      var ticks = [0, Math.round((n1 - 1) / 3), Math.round(2 * (n1 - 1) / 3), n1 - 1];
      ticks.forEach(function (t) {
        g.fillText(fmt(d.beta1[t]), M.l + (t + 0.5) * cw, M.t + H + 13);
      });
      g.fillText("\u03b21", M.l + W / 2, M.t + H + 30);
      g.textAlign = "right";
      ticks = [0, Math.round((n2 - 1) / 3), Math.round(2 * (n2 - 1) / 3), n2 - 1];
      ticks.forEach(function (t) {
        g.fillText(fmt(d.beta2[t]), M.l - 3, M.t + H - (t + 0.5) * ch + 4);
      });
      g.save(); g.translate(11, M.t + H / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
      g.fillText("\u03b22", 0, 0); g.restore();
    });
  }

  function cellAt(box, c, ev) {
    var p = at(c, ev), n1 = box.data.beta1.length, n2 = box.data.beta2.length;
    var i = Math.floor((p[0] - M.l) / ((c.width - M.l - M.r) / n1));
    var j = n2 - 1 - Math.floor((p[1] - M.t) / ((c.height - M.t - M.b) / n2));
    return i >= 0 && i < n1 && j >= 0 && j < n2 ? [i, j] : null;
  }

  function plotLines(c, series, key, logy, label, T) {
    var g = c.getContext("2d"), m = {l: 58, r: 10, t: 10, b: 36};
    var W = c.width - m.l - m.r, H = c.height - m.t - m.b;
    g.clearRect(0, 0, c.width, c.height);
    var lx0 = 0, lx1 = Math.log10(T), lo = -1, hi = 1;
    if (logy) {
      lo = Infinity; hi = -Infinity;
      series.forEach(function (s) {
        s[key].forEach(function (v) { if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      });
      if (!isFinite(lo)) { lo = 1e-6; hi = 1; }
      lo = Math.floor(Math.log10(lo)); hi = Math.max(lo + 1, Math.ceil(Math.log10(hi)));
    }
    var X = function (t) { return m.l + (Math.log10(t) - lx0) / (lx1 - lx0 || 1) * W; };
    var Y = function (v) {
      var u = logy ? Math.log10(Math.max(v, Math.pow(10, lo))) : v;
      return m.t + H - (u - lo) / (hi - lo) * H;
    };
    g.strokeStyle = "#ccc"; g.lineWidth = 1; g.fillStyle = "#1d2430"; g.font = "11px sans-serif";
    g.textAlign = "center";
    for (var e = 0; e <= Math.floor(lx1); e++) {
      var px = X(Math.pow(10, e));
      g.beginPath(); g.moveTo(px, m.t); g.lineTo(px, m.t + H); g.stroke();
      g.fillText("1e" + e, px, m.t + H + 13);
    }
    g.fillText("t (log scale)", m.l + W / 2, m.t + H + 30);
    g.textAlign = "right";
    var step = logy ? Math.max(1, Math.ceil((hi - lo) / 6)) : 0.5;
    for (var u = lo; u <= hi + 1e-9; u += step) {
      var py = m.t + H - (u - lo) / (hi - lo) * H;
      g.beginPath(); g.moveTo(m.l, py); g.lineTo(m.l + W, py); g.stroke();
      g.fillText(logy ? "1e" + u : String(u), m.l - 4, py + 4);
    }
    g.save(); g.translate(12, m.t + H / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
    g.fillText(label, 0, 0); g.restore();
    series.forEach(function (s, k) {
      g.strokeStyle = PALETTE[k % PALETTE.length]; g.lineWidth = s.selected ? 2.6 : 1.2;
      g.beginPath();
      s.steps.forEach(function (t, q) {
        if (q === 0) g.moveTo(X(t), Y(s[key][q])); else g.lineTo(X(t), Y(s[key][q]));
      });
      g.stroke();
      g.fillStyle = g.strokeStyle; g.textAlign = "left";
      g.fillText(s.name + (s.selected ? " (clicked)" : ""), m.l + 8, m.t + 14 + 14 * k);
    });
  }

  function select(box, oi, i, j) {
    var d = box.data, n2 = d.beta2.length, K = d.steps.length, series = [];
    box.opts.forEach(function (o, k) {
      var cfg = o.cells[i * n2 + j], s = {name: o.name, selected: k === oi, steps: d.steps};
      s.x = Array.prototype.slice.call(box.tx, cfg * K, (cfg + 1) * K);
      s.r = Array.prototype.slice.call(box.tr, cfg * K, (cfg + 1) * K);
      series.push(s);
    });
    box.sel = [oi, i, j];
    box.root.iaState = {optimizer: box.opts[oi].name, i: i, j: j, series: series};
    box.info.textContent = box.opts[oi].name + " clicked at \u03b21 = " + fmt(d.beta1[i]) +
      ", \u03b22 = " + fmt(d.beta2[j]) + ": x_t and R_t/t of every optimizer of the atlas " +
      "at these betas (thick: the clicked one; R_t/t \u2264 0 drawn at the bottom).";
    plotLines(box.px, series, "x", false, "x_t", d.T);
    plotLines(box.pr, series, "r", true, "R_t / t", d.T);
    drawAtlas(box);
  }

  function buildAtlas(root, d) {
    var box = {root: root, data: d, maps: [], sel: null};
    box.opts = d.optimizers.map(function (o) {
      return {name: o.name, cells: decode(o.cells), x: decode(o.x), r: decode(o.r),
              p: decode(o.p), v: decode(o.v)};
    });
    box.tx = decode(d.traj_x); box.tr = decode(d.traj_r);
    var lo = Infinity, hi = -Infinity;
    box.opts.forEach(function (o) {
      o.r.forEach(function (v) { if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    });
    hi = isFinite(hi) ? hi : 1; box.rrange = [Math.max(isFinite(lo) ? lo : 1e-12, hi * 1e-4), hi];
    var bar = el("div", "ia-bar", root, "Colour: ");
    box.mode = el("select", "", bar);
    [["v", "verdict (green converges, yellow undecided, red fails)"], ["x", "x_T (blue -1, red +1)"],
     ["r", "R_T/T (log, dark small)"], ["p", "regret exponent (0 to 1.2, dark small)"]]
      .forEach(function (m) { el("option", "", box.mode, m[1]).value = m[0]; });
    box.mode.onchange = function () { drawAtlas(box); };
    el("span", "ia-hint", bar, " Hover a cell for its values, click it for its trajectory. " +
       "Dashed: \u03b21 = \u221a\u03b22.");
    var row = el("div", "ia-row", root), size = d.optimizers.length > 3 ? 250 : 290;
    box.opts.forEach(function (o, oi) {
      var cell = el("div", "ia-panel", row);
      el("div", "ia-title", cell, o.name);
      var c = canvas(cell, size, size);
      c.dataset.optimizer = o.name;
      box.maps.push(c);
      c.addEventListener("mousemove", function (ev) {
        var ij = cellAt(box, c, ev);
        if (!ij) { box.tip.style.display = "none"; return; }
        var k = ij[0] * d.beta2.length + ij[1];
        tip(box, ev, [o.name + ": \u03b21 = " + fmt(d.beta1[ij[0]]) + ", \u03b22 = " +
          fmt(d.beta2[ij[1]]), "x_T = " + fmt(o.x[k]), "R_T/T = " + fmt(o.r[k]),
          "exponent = " + fmt(o.p[k]), "verdict: " + VERDICT[o.v[k]], "(click: trajectory)"]);
      });
      c.addEventListener("mouseleave", function () { box.tip.style.display = "none"; });
      c.addEventListener("click", function (ev) {
        var ij = cellAt(box, c, ev);
        if (ij) select(box, oi, ij[0], ij[1]);
      });
    });
    box.info = el("div", "ia-info", root, "Click a cell of the atlas to draw its trajectory.");
    var plots = el("div", "ia-row", root);
    box.px = canvas(plots, 540, 250); box.pr = canvas(plots, 540, 250);
    box.px.className = "ia-traj-x"; box.pr.className = "ia-traj-r";
    box.tip = el("div", "ia-tip", root);
    drawAtlas(box);
  }

  // ------------------------------------------------------------------ family
  function buildFamily(root, d) {
    var box = {root: root};
    el("div", "ia-hint", root, "Hover a cell for its values. Colour: the verdict (green " +
       "converges, yellow undecided, red fails); number: the regret exponent.");
    var rowH = 18, colW = 86, left = 150, top = 96;
    d.settings.forEach(function (setting, si) {
      var runs = d.runs.filter(function (r) { return r[1] === si; });
      var opts = d.optimizers.filter(function (_, oi) {
        return runs.some(function (r) { return r[0] === oi; });
      });
      if (!runs.length) return;
      el("div", "ia-title", root, setting);
      var c = canvas(root, left + colW * d.problems.length + 90, top + rowH * opts.length + 4);
      c.dataset.setting = setting;
      var g = c.getContext("2d"), grid = {};
      g.font = "11px sans-serif";
      runs.forEach(function (r) {
        var row = opts.indexOf(d.optimizers[r[0]]), x = left + colW * r[2], y = top + rowH * row;
        grid[row + "," + r[2]] = r;
        g.fillStyle = VCOL[VERDICT.indexOf(r[7])] || "#ccc";
        g.fillRect(x + 1, y + 1, colW - 2, rowH - 2);
        g.fillStyle = "#1d2430"; g.textAlign = "center";
        g.fillText(exponent(r[6]), x + colW / 2, y + 13);
      });
      g.textAlign = "right"; g.fillStyle = "#1d2430";
      opts.forEach(function (name, row) { g.fillText(name, left - 6, top + rowH * row + 13); });
      g.textAlign = "left";
      d.problems.forEach(function (p, k) {
        g.save(); g.translate(left + colW * k + colW / 2 - 4, top - 6); g.rotate(-Math.PI / 6);
        g.fillText(p, 0, 0); g.restore();
      });
      c.addEventListener("mousemove", function (ev) {
        var p = at(c, ev), r = grid[Math.floor((p[1] - top) / rowH) + "," +
          Math.floor((p[0] - left) / colW)];
        if (!r || p[0] < left || p[1] < top) { box.tip.style.display = "none"; return; }
        tip(box, ev, [d.optimizers[r[0]] + " on " + d.problems[r[2]] + " (" + setting + ")",
          r[8], "x_T = " + fmt(r[3]) + " (x* = " + fmt(r[4]) + ")", "R_T/T = " + fmt(r[5]),
          "exponent = " + fmt(r[6]), "verdict: " + r[7]]);
      });
      c.addEventListener("mouseleave", function () { box.tip.style.display = "none"; });
    });
    box.tip = el("div", "ia-tip", root);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("div.ia"), function (root) {
      var d = JSON.parse(document.getElementById(root.dataset.payload).textContent);
      if (d.kind === "atlas") buildAtlas(root, d); else if (d.kind === "family") buildFamily(root, d);
      root.dataset.ready = "1";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
