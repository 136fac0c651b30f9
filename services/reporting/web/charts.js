// Small SVG charts for the dashboard: bars (vertical, horizontal, stacked), lines, a gauge and a
// sparkline. No dependency and no build step. Every drawn mark carries data-series, data-label and
// data-value, so a test (or a curious reader) can check what was drawn against the report.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

  function el(name, attrs = {}, parent = null) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs)) {
      if (value !== undefined && value !== null) node.setAttribute(key, String(value));
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs = {}) {
    const node = el("text", { x, y, ...attrs }, parent);
    node.textContent = content;
    return node;
  }

  function tip(node, content) {
    el("title", {}, node).textContent = content;
  }

  // The drawing's own width is the container's, so text keeps its size whatever the panel's width.
  function widthOf(container, fallback = 640) {
    return Math.max(320, Math.round(container.clientWidth || fallback));
  }

  function svgIn(container, width, height, label) {
    container.replaceChildren();
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": label || "chart",
      class: "chart",
      preserveAspectRatio: "xMidYMid meet",
    });
    container.appendChild(svg);
    return svg;
  }

  function empty(container, message) {
    container.replaceChildren();
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = message || "No data for these filters yet.";
    container.appendChild(p);
  }

  // A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten.
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  const plain = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

  function legend(svg, series, x, y) {
    let offset = x;
    series.forEach((s, i) => {
      const colour = s.color || PALETTE[i % PALETTE.length];
      el("rect", { x: offset, y: y - 9, width: 10, height: 10, rx: 2, fill: colour }, svg);
      const label = text(svg, offset + 14, y, s.name, { class: "legend" });
      offset += 24 + Math.max(40, s.name.length * 6.5);
      return label;
    });
  }

  // Vertical bars: labels on x, one bar per series side by side (or stacked).
  function bars(container, { labels, series, stacked = false, format = plain, label, target, max }) {
    const total = (i) => series.reduce((sum, s) => sum + (Number(s.values[i]) || 0), 0);
    const peak = stacked
      ? Math.max(0, ...labels.map((_, i) => total(i)))
      : Math.max(0, ...series.flatMap((s) => s.values.map(Number).filter(Number.isFinite)));
    if (!labels.length || (peak === 0 && target === undefined)) return empty(container);
    const W = widthOf(container), H = 260, left = 44, right = 12, top = 26, bottom = 42;
    const svg = svgIn(container, W, H, label);
    const top_ = max ?? niceMax(Math.max(peak, target ?? 0));
    const y = (v) => top + (H - top - bottom) * (1 - v / top_);
    for (let k = 0; k <= 4; k++) {
      const v = (top_ * k) / 4;
      el("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }, svg);
      text(svg, left - 6, y(v) + 4, format(v), { class: "axis", "text-anchor": "end" });
    }
    const band = (W - left - right) / labels.length;
    const groups = stacked ? 1 : series.length;
    const barWidth = Math.max(2, Math.min(46, (band * 0.78) / groups));
    const every = Math.ceil(labels.length / 12);
    labels.forEach((name, i) => {
      let base = 0;
      series.forEach((s, j) => {
        const value = Number(s.values[i]) || 0;
        const colour = s.color || PALETTE[j % PALETTE.length];
        const x = left + band * i + (band - barWidth * groups) / 2 + (stacked ? 0 : j * barWidth);
        const y0 = y(base + value), y1 = y(base);
        const rect = el("rect", {
          x, y: y0, width: barWidth, height: Math.max(0, y1 - y0), rx: 2, fill: colour,
          class: "mark", "data-series": s.name, "data-label": name, "data-value": value,
        }, svg);
        tip(rect, `${name} · ${s.name}: ${format(value)}`);
        if (stacked) base += value;
      });
      if (i % every === 0) {
        text(svg, left + band * i + band / 2, H - bottom + 16, short(name), { class: "axis", "text-anchor": "middle" });
      }
    });
    if (target !== undefined) {
      el("line", { x1: left, x2: W - right, y1: y(target), y2: y(target), class: "target", "data-value": target }, svg);
    }
    if (series.length > 1 || series[0].name) legend(svg, series, left, 14);
  }

  // Horizontal bars, one row per label, with an optional target tick: for rankings and scorecards.
  function hbars(container, { labels, values, format = plain, label, max, target, colours, unit = "" }) {
    if (!labels.length) return empty(container);
    const row = 28, W = widthOf(container), left = 170, right = 64, top = 8;
    const H = top * 2 + row * labels.length;
    const svg = svgIn(container, W, H, label);
    const top_ = max ?? niceMax(Math.max(...values.map(Number), target ?? 0));
    const x = (v) => left + (W - left - right) * Math.min(1, Math.max(0, v / top_));
    labels.forEach((name, i) => {
      const value = Number(values[i]) || 0;
      const y = top + i * row;
      text(svg, left - 8, y + row / 2 + 4, short(name, 24), { class: "axis label", "text-anchor": "end" });
      el("rect", { x: left, y: y + 5, width: W - left - right, height: row - 10, rx: 3, class: "track" }, svg);
      const colour = colours ? colours[i] : PALETTE[0];
      const rect = el("rect", {
        x: left, y: y + 5, width: Math.max(1, x(value) - left), height: row - 10, rx: 3, fill: colour,
        class: "mark", "data-series": label || "", "data-label": name, "data-value": value,
      }, svg);
      tip(rect, `${name}: ${format(value)}${unit}`);
      text(svg, W - right + 6, y + row / 2 + 4, format(value) + unit, { class: "value" });
      if (target !== undefined) {
        el("line", { x1: x(target), x2: x(target), y1: y + 2, y2: y + row - 2, class: "target", "data-value": target }, svg);
      }
    });
  }

  // Lines over labels (dates), one per series, with dots that carry the values; a series with
  // `bars: true` is drawn as bars under the lines instead.
  function lines(container, { labels, series, format = plain, label, area = false }) {
    const peak = Math.max(0, ...series.flatMap((s) => s.values.map(Number).filter(Number.isFinite)));
    if (!labels.length) return empty(container);
    const W = widthOf(container), H = 280, left = 44, right = 16, top = 30, bottom = 34;
    const svg = svgIn(container, W, H, label);
    const top_ = niceMax(peak);
    const y = (v) => top + (H - top - bottom) * (1 - v / top_);
    const band = (W - left - right) / labels.length;
    const x = (i) => left + band * i + band / 2;
    for (let k = 0; k <= 4; k++) {
      const v = (top_ * k) / 4;
      el("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }, svg);
      text(svg, left - 6, y(v) + 4, format(v), { class: "axis", "text-anchor": "end" });
    }
    const every = Math.ceil(labels.length / Math.max(2, Math.floor((W - left - right) / 80)));
    labels.forEach((name, i) => {
      if (i % every === 0) text(svg, x(i), H - bottom + 16, short(name), { class: "axis", "text-anchor": "middle" });
    });
    const ordered = [...series.filter((s) => s.bars), ...series.filter((s) => !s.bars)];
    ordered.forEach((s) => {
      const colour = s.color || PALETTE[series.indexOf(s) % PALETTE.length];
      if (s.bars) {
        const width = Math.max(2, band * 0.62);
        s.values.forEach((v, i) => {
          const value = Number(v) || 0;
          const rect = el("rect", {
            x: x(i) - width / 2, y: y(value), width, height: Math.max(0, y(0) - y(value)), rx: 2, fill: colour,
            class: "mark bar", "data-series": s.name, "data-label": labels[i], "data-value": value,
          }, svg);
          tip(rect, `${labels[i]} · ${s.name}: ${format(value)}`);
        });
        return;
      }
      const points = s.values.map((v, i) => [x(i), y(Number(v) || 0)]);
      if (area && points.length) {
        const d = `M${points[0][0]},${y(0)} ` + points.map(([a, b]) => `L${a},${b}`).join(" ") + ` L${points[points.length - 1][0]},${y(0)} Z`;
        el("path", { d, fill: colour, class: "area" }, svg);
      }
      el("polyline", { points: points.map((p) => p.join(",")).join(" "), stroke: colour, class: "line", "data-series": s.name }, svg);
      points.forEach(([a, b], i) => {
        const dot = el("circle", {
          cx: a, cy: b, r: labels.length > 40 ? 2 : 3.2, fill: colour,
          class: "mark", "data-series": s.name, "data-label": labels[i], "data-value": Number(s.values[i]) || 0,
        }, svg);
        tip(dot, `${labels[i]} · ${s.name}: ${format(Number(s.values[i]) || 0)}`);
      });
    });
    legend(svg, series, left, 16);
  }

  // A half-ring gauge for a percentage, with the target as a tick.
  function gauge(container, { value, target, label }) {
    const W = 220, H = 130, cx = 110, cy = 112, r = 86;
    const svg = svgIn(container, W, H, label);
    const point = (share) => {
      const angle = Math.PI * (1 - Math.min(1, Math.max(0, share)));
      return [cx + r * Math.cos(angle), cy - r * Math.sin(angle)];
    };
    const arc = (share) => {
      const [x, y] = point(share);
      return `M${cx - r},${cy} A${r},${r} 0 0 1 ${x},${y}`;
    };
    el("path", { d: arc(1), class: "gauge-track" }, svg);
    if (value !== null && value !== undefined) {
      const ok = target === undefined || value >= target;
      el("path", { d: arc(value / 100), class: `gauge-value ${ok ? "good" : "bad"}`, "data-value": value, "data-label": label }, svg);
    }
    if (target !== undefined) {
      const [x, y] = point(target / 100);
      const [x2, y2] = [cx + (x - cx) * 0.8, cy + (y - cy) * 0.8];
      el("line", { x1: x, y1: y, x2, y2, class: "target", "data-value": target }, svg);
    }
    text(svg, cx, cy - 14, value === null || value === undefined ? "–" : `${value.toFixed(1)}%`, { class: "gauge-text", "text-anchor": "middle" });
  }

  function sparkline(container, values, { label } = {}) {
    const W = 120, H = 30;
    if (!values.length) return container.replaceChildren();
    const svg = svgIn(container, W, H, label);
    svg.setAttribute("class", "spark");
    const peak = Math.max(1, ...values);
    const step = values.length > 1 ? W / (values.length - 1) : 0;
    const points = values.map((v, i) => `${i * step},${H - 2 - (H - 4) * (v / peak)}`).join(" ");
    el("polyline", { points, class: "spark-line", "data-values": values.join(",") }, svg);
  }

  function short(value, max = 12) {
    const s = String(value);
    return s.length > max ? s.slice(0, max - 1) + "…" : s;
  }

  return { bars, hbars, lines, gauge, sparkline, empty, PALETTE };
})();
