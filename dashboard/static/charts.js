// perfci charts: the trend of one series and the roofline, drawn with the Plotly bundle this app serves.
// Data comes from <script type="application/json"> blocks rendered by the server (no inline script: CSP).
"use strict";

function readData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function shortJson(value) {
  if (!value || Object.keys(value).length === 0) return "–";
  return Object.entries(value).map(([k, v]) => `${k}=${typeof v === "number" ? +v.toPrecision(4) : v}`).join(", ");
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function drawTrend(element, data) {
  // data.columns: one array per field (oldest first); config / telemetry are indexes into data.texts
  const c = data.columns;
  const keep = c.median.map((m, i) => (m === null ? -1 : i)).filter((i) => i >= 0);
  const pick = (name) => keep.map((i) => c[name][i]);
  // x: commit order by default (evenly spaced, labelled by sha and date); "time" spaces by commit time
  const byTime = data.axis === "time";
  const x = byTime ? pick("at") : keep.map((_, k) => k);
  const describe = (textIndex) => escapeHtml(shortJson(JSON.parse(data.texts[textIndex])));
  const custom = keep.map((i) => [
    c.sha[i].slice(0, 10), escapeHtml(c.message[i]), describe(c.config[i]), describe(c.telemetry[i]), escapeHtml(c.status[i]),
    c.n[i], escapeHtml(c.timing[i] || "not recorded"), escapeHtml(c.autotune[i] || "nothing autotuned"), c.sha[i],
  ]);
  const hover = "<b>%{customdata[0]}</b> %{customdata[1]}<br>median %{y:.4f} ms (%{customdata[5]} samples, %{customdata[4]})" +
    "<br>timing: %{customdata[6]}<br>config: %{customdata[2]}<br>autotune (per process): %{customdata[7]}" +
    "<br>telemetry: %{customdata[3]}<extra></extra>";
  const band = withGaps(x, pick("q1"), pick("q3"), byTime);
  const traces = [
    { x: band.x, y: band.low, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, connectgaps: false },
    { x: band.x, y: band.high, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31,119,180,0.18)",
      name: "IQR band", hoverinfo: "skip", connectgaps: false },
    { x, y: pick("median"), mode: keep.length > 2000 ? "lines" : "lines+markers", name: "median",
      line: { color: "#1f77b4", width: 1.5 }, marker: { size: 4 }, customdata: custom, hovertemplate: hover },
  ];
  const points = keep.map((i, k) => ({ sha: c.sha[i], at: x[k], median: c.median[i], q3: c.q3[i] }));
  const bySha = new Map(points.map((p) => [p.sha, p]));
  const groups = {
    latency: { symbol: "triangle-up", color: "#d62728", name: "regression" },
    improvement: { symbol: "triangle-down", color: "#2ca02c", name: "improvement" },
    correctness: { symbol: "x", color: "#9467bd", name: "correctness failure" },
    missing: { symbol: "circle-open", color: "#7f7f7f", name: "stopped reporting" },
  };
  const shapes = [];
  for (const [kind, style] of Object.entries(groups)) {
    const hits = data.markers.filter((m) => m.kind === kind && bySha.has(m.sha));
    if (hits.length === 0) continue;
    traces.push({
      x: hits.map((m) => bySha.get(m.sha).at),
      y: hits.map((m) => bySha.get(m.sha).median ?? bySha.get(m.sha).q3 ?? null),
      mode: "markers", name: style.name, marker: { symbol: style.symbol, size: 13, color: style.color },
      customdata: hits.map((m) => [m.sha.slice(0, 10), m.change === null ? "" : `${(m.change * 100).toFixed(1)}%`,
        escapeHtml(m.detector || ""), escapeHtml(m.status), m.sha]),
      hovertemplate: `<b>${style.name}</b> %{customdata[1]} at %{customdata[0]}<br>detector %{customdata[2]} · %{customdata[3]}<extra></extra>`,
    });
    for (const m of hits) {
      if (m.detector === "pelt") {
        const at = bySha.get(m.sha).at;
        shapes.push({ type: "line", xref: "x", yref: "paper", x0: at, x1: at, y0: 0, y1: 1,
          line: { color: style.color, dash: "dash", width: 1 } });
      }
    }
  }
  const layout = {
    margin: { t: 20, r: 20, b: 50, l: 70 }, hovermode: "closest", dragmode: "zoom", shapes,
    xaxis: byTime ? { title: { text: "commit time" } } : orderAxis(keep.map((i) => [c.sha[i], c.at[i]])),
    yaxis: { title: { text: `median (${data.unit})` } },
    legend: { orientation: "h", y: -0.2 },
  };
  Plotly.newPlot(element, traces, layout, { responsive: true, scrollZoom: true, displaylogo: false });
  element.on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (!point || !point.customdata) return;
    const sha = point.customdata[point.customdata.length - 1];
    window.location.href = `/commit/${encodeURIComponent(sha)}`;
  });
}

function orderAxis(commits) {
  // about a dozen evenly spaced ticks, each "sha7 date"
  const step = Math.max(1, Math.ceil(commits.length / 12));
  const tickvals = [];
  for (let k = 0; k < commits.length; k += step) tickvals.push(k);
  return { title: { text: "commits in order" }, tickmode: "array", tickvals,
    ticktext: tickvals.map((k) => `${commits[k][0].slice(0, 7)}<br>${String(commits[k][1]).slice(0, 10)}`) };
}

function withGaps(x, low, high, byTime) {
  // by time, a gap over 5x the typical spacing breaks the band instead of drawing a wedge across it
  if (!byTime || x.length < 3) return { x, low, high };
  const t = x.map((v) => Date.parse(v));
  const steps = t.slice(1).map((v, k) => v - t[k]).sort((a, b) => a - b);
  const typical = steps[Math.floor(steps.length / 2)] || 0;
  const out = { x: [], low: [], high: [] };
  x.forEach((v, k) => {
    if (k > 0 && typical > 0 && t[k] - t[k - 1] > 5 * typical) {
      out.x.push(x[k - 1]); out.low.push(null); out.high.push(null);
    }
    out.x.push(v); out.low.push(low[k]); out.high.push(high[k]);
  });
  return out;
}

function drawRoofline(element, data) {
  const traces = [];
  const ops = [...new Set(data.points.map((p) => p.op))];
  const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];
  ops.forEach((op, i) => {
    const pts = data.points.filter((p) => p.op === op && p.intensity && p.tflops);
    traces.push({
      x: pts.map((p) => p.intensity), y: pts.map((p) => p.tflops), mode: "markers", name: escapeHtml(op),
      marker: { size: 9, color: colors[i % colors.length] },
      customdata: pts.map((p) => [escapeHtml(p.case), escapeHtml(p.device), p.roofline_fraction ? `${(p.roofline_fraction * 100).toFixed(0)}%` : "–", p.series_id]),
      hovertemplate: "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{y:.2f} TFLOP/s at %{x:.1f} FLOP/byte<br>%{customdata[2]} of roofline<extra></extra>",
    });
  });
  const intensities = data.points.map((p) => p.intensity).filter((v) => v);
  const lo = Math.max(0.1, Math.min(...intensities, 1) / 2), hi = Math.max(...intensities, 1000) * 2;
  for (const ceiling of Object.values(data.ceilings)) {
    if (!ceiling.copy_gbps || !ceiling.bf16_tflops) continue;
    const xs = [], ys = [];
    for (let k = 0; k <= 60; k++) {
      const ai = lo * Math.pow(hi / lo, k / 60);
      xs.push(ai); ys.push(Math.min(ceiling.bf16_tflops, (ceiling.copy_gbps * ai) / 1000));
    }
    traces.push({ x: xs, y: ys, mode: "lines", name: `${escapeHtml(ceiling.device)} ceiling`, line: { dash: "dot", color: "#555" },
      hovertemplate: "ceiling %{y:.1f} TFLOP/s<extra></extra>" });
  }
  const layout = {
    margin: { t: 20, r: 20, b: 50, l: 70 }, hovermode: "closest",
    xaxis: { type: "log", title: { text: "useful FLOP per minimum byte" } },
    yaxis: { type: "log", title: { text: "achieved TFLOP/s" } }, legend: { orientation: "h", y: -0.2 },
  };
  Plotly.newPlot(element, traces, layout, { responsive: true, scrollZoom: true, displaylogo: false });
  element.on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (point && point.customdata && point.customdata[3]) window.location.href = `/series/${point.customdata[3]}`;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const trend = document.getElementById("trend");
  if (trend) drawTrend(trend, readData("trend-data"));
  const roof = document.getElementById("roofline");
  if (roof) drawRoofline(roof, readData("roofline-data"));
});
