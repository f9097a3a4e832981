// SVG charts for the dashboard: a sparkline per service, and a service's reports against its
// expected baseline (bars and a dashed line), labelled for screen readers.
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

function titled(node, text) {
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", text);
  node.prepend(svg("title", {}, text));
  return node;
}

/** A 96x24 sparkline of `values` (oldest first). */
export function sparkline(values, label) {
  const width = 96;
  const height = 24;
  const top = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`);
  const total = values.reduce((a, b) => a + b, 0);
  return titled(
    svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}` },
      svg("polyline", { points: points.join(" ") })),
    `${label}: ${total} in all, at most ${Math.max(0, ...values)} in an hour`);
}

/** Bars of reports per bucket and the baseline's expectation, with time and count axes. */
export function reportsChart(series, clockFormat) {
  const width = 720;
  const height = 260;
  const pad = { left: 40, right: 8, top: 10, bottom: 28 };
  const buckets = series.buckets;
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const top = Math.max(1, ...buckets.map((b) => Math.max(b.reports, b.expected || 0)));
  const slot = innerW / Math.max(1, buckets.length);
  const y = (v) => pad.top + innerH - (v / top) * innerH;
  const bars = svg("g", { class: "bars" });
  buckets.forEach((b, i) => {
    if (!b.reports) return;
    const rect = svg("rect", {
      x: (pad.left + i * slot + slot * 0.1).toFixed(1), y: y(b.reports).toFixed(1),
      width: Math.max(1, slot * 0.8).toFixed(1), height: Math.max(0.5, innerH - (y(b.reports) - pad.top)).toFixed(1),
    });
    rect.append(svg("title", {}, `${clockFormat.format(new Date(b.start))}: ${b.reports} reports, ${b.expected === null ? "no baseline" : `${b.expected.toFixed(1)} expected`}`));
    bars.append(rect);
  });
  let path = "";
  buckets.forEach((b, i) => {
    if (b.expected === null) return;
    const x = (pad.left + (i + 0.5) * slot).toFixed(1);
    path += `${path && buckets[i - 1] && buckets[i - 1].expected !== null ? "L" : "M"}${x},${y(b.expected).toFixed(1)}`;
  });
  const axis = svg("g", { class: "axis" });
  for (const value of [0, top / 2, top]) {
    const at = y(value).toFixed(1);
    axis.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: at, y2: at }));
    axis.append(svg("text", { x: pad.left - 4, y: Number(at) + 4, "text-anchor": "end" }, String(Math.round(value))));
  }
  const every = Math.max(1, Math.round(buckets.length / 6));
  buckets.forEach((b, i) => {
    if (i % every) return;
    axis.append(svg("text", { x: (pad.left + i * slot).toFixed(1), y: height - 8 }, clockFormat.format(new Date(b.start))));
  });
  const peak = buckets.reduce((best, b) => (b.reports > best.reports ? b : best), buckets[0] || { reports: 0 });
  const total = buckets.reduce((sum, b) => sum + b.reports, 0);
  const summary = peak && peak.reports
    ? `${total} reports; the most, ${peak.reports}, in the ${series.bucket_minutes} minutes from ${clockFormat.format(new Date(peak.start))}`
    : "no reports";
  return titled(
    svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "xMidYMid meet", "data-buckets": buckets.length },
      axis, bars, svg("path", { class: "baseline", d: path })),
    `Reports per ${series.bucket_minutes} minutes against the expected baseline: ${summary}`);
}
