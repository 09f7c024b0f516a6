// The dashboard page: server-sent events from /events (every event so far, then each new one) drawn with uPlot.
"use strict";
const METHODS = ["laplace", "temperature", "map"];
const NAMES = {laplace: "Laplace-LoRA", temperature: "temperature scaling", map: "MAP"};
const COLORS = {laplace: "#1f6feb", temperature: "#d97706", map: "#7c8592"};
const BANDS = ["rgba(31,111,235,0.05)", "rgba(26,127,55,0.07)", "rgba(154,103,0,0.07)", "rgba(130,80,223,0.07)"];

let state = fresh();
function fresh() {
  return {
    windows: new Map(),          // window key (first outcome) -> {t, version, open, missing, late, per method: record}
    running: {}, latest: {},     // method -> the newest running / window record
    segments: new Map(),         // segment -> {running: {method: record}, window: {method: record}}
    drifts: [], refits: [], posteriors: [], predictions: 0, perVersion: {}, caughtUp: false, events: 0,
  };
}

fetch("config.json").then(r => r.json()).then(c => {
  document.getElementById("connection").textContent = "Kafka " + c.bootstrapServers + " · schema registry " + c.schemaRegistry +
    " · group " + c.group + " · topics " + c.topics.join(", ");
}).catch(() => { document.getElementById("connection").textContent = "cannot read config.json"; });

const source = new EventSource("events");
// every (re)connection replays the whole history: start from nothing each time, or markers and rows would double
source.onopen = () => { state = fresh(); };
source.onmessage = m => { take(JSON.parse(m.data)); state.events++; schedule(); };
source.onerror = () => { document.getElementById("status").textContent = "disconnected; retrying…"; };

function take(e) {
  switch (e.type) {
    case "metrics": return metrics(e);
    case "drift": state.drifts.push(e); return;
    case "refit": state.refits.push(e); return;
    case "posterior": state.posteriors.push(e); return;
    case "caughtUp": state.caughtUp = true; return;
    case "predictions":
      for (const [v, n] of Object.entries(e.versions)) {
        state.predictions += n;
        state.perVersion[v] = (state.perVersion[v] || 0) + n;
      }
      return;
  }
}

function metrics(e) {
  if (e.scope === "window") {
    const w = state.windows.get(e.firstOutcome) || {t: e.t / 1000, version: e.version};
    w[e.method] = e;
    w.open = e.open; w.missing = e.missing; w.late = e.late;
    state.windows.set(e.firstOutcome, w);
    state.latest[e.method] = e;
  } else if (e.scope === "running") {
    state.running[e.method] = e;
  } else if (e.scope === "segment" || e.scope === "segment-window") {
    const s = state.segments.get(e.segment) || {running: {}, window: {}};
    s[e.scope === "segment" ? "running" : "window"][e.method] = e;
    state.segments.set(e.segment, s);
  }
}

let pending = false;
function schedule() {
  if (!pending) { pending = true; setTimeout(() => { pending = false; draw(); }, 300); }
}

// ---- time-series charts ----
const charts = {};
function windowsInOrder() { return [...state.windows.values()].sort((a, b) => a.t - b.t); }

function seriesData(field, withEstimated) {
  const ws = windowsInOrder();
  const data = [ws.map(w => w.t)];
  METHODS.forEach(m => data.push(ws.map(w => w[m] ? w[m][field] : null)));
  if (withEstimated) METHODS.forEach(m => data.push(ws.map(w => w[m] && w[m].estimated != null ? w[m].estimated : null)));
  return data;
}

function markersAndBands(u) {
  const ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
  // posterior version bands
  const ws = windowsInOrder();
  let start = 0;
  for (let i = 1; i <= ws.length; i++) {
    if (i === ws.length || ws[i].version !== ws[start].version) {
      const x0 = u.valToPos(ws[start].t, "x", true);
      const x1 = u.valToPos(ws[i - 1].t, "x", true);
      ctx.fillStyle = BANDS[ws[start].version % BANDS.length];
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
      ctx.fillStyle = "#667"; ctx.font = "10px sans-serif";
      ctx.fillText("v" + ws[start].version, x0 + 3, top + 11);
      start = i;
    }
  }
  const line = (t, color, dash) => {
    const x = u.valToPos(t / 1000, "x", true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash(dash);
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke(); ctx.restore();
  };
  state.drifts.forEach(d => line(d.t, d.kind === "label-free" ? "rgba(209,36,47,0.4)" : "#d1242f", [4, 3]));
  state.refits.forEach(r => line(r.t, r.accepted ? "#1a7f37" : "#9a6700", []));
}

function chart(id, label, field, withEstimated) {
  const el = document.getElementById(id);
  const series = [{label: "time"}];
  METHODS.forEach(m => series.push({label: NAMES[m], stroke: COLORS[m], width: 2, spanGaps: true}));
  if (withEstimated) METHODS.forEach(m => series.push({label: NAMES[m] + " (estimated)", stroke: COLORS[m], dash: [6, 4], width: 1.5, spanGaps: true}));
  const opts = {width: Math.max(480, el.clientWidth), height: 240, series, axes: [{}, {label}],
    scales: {x: {time: true}}, hooks: {drawClear: [markersAndBands]}, legend: {live: false}};
  charts[id] = {plot: new uPlot(opts, seriesData(field, withEstimated), el), field, withEstimated};
}

function lagData() {
  const ws = windowsInOrder();
  return [ws.map(w => w.t), ws.map(w => w.open), ws.map(w => w.missing), ws.map(w => w.late)];
}

function drawCharts() {
  if (!charts["chart-ece"]) {
    chart("chart-ece", "ECE", "ece", false);
    chart("chart-nll", "NLL", "nll", false);
    chart("chart-accuracy", "accuracy", "accuracy", true);
    const el = document.getElementById("chart-lag");
    charts["chart-lag"] = {plot: new uPlot({width: Math.max(480, el.clientWidth), height: 200, scales: {x: {time: true}},
      series: [{label: "time"}, {label: "awaiting a label", stroke: "#1f6feb", width: 2},
        {label: "labels missing", stroke: "#d1242f", width: 2}, {label: "labels late", stroke: "#9a6700", width: 2}],
      hooks: {drawClear: [markersAndBands]}}, lagData(), el)};
  }
  for (const [id, c] of Object.entries(charts)) {
    c.plot.setData(id === "chart-lag" ? lagData() : seriesData(c.field, c.withEstimated));
    const counts = METHODS.map(m => m + ":" + windowsInOrder().filter(w => w[m]).length);
    document.getElementById(id).dataset.series = counts.join(",");
  }
  const last = windowsInOrder().pop();
  if (last) {
    document.getElementById("lag-now").textContent = "now: " + (last.open ?? 0) + " predictions awaiting a label, " +
      last.missing + " labels missing, " + last.late + " late";
  }
}

// ---- reliability diagrams (plain SVG: ten bars and a diagonal) ----
function reliability(record, title, method) {
  const W = 230, H = 200, P = 26, w = (W - P - 6) / 10, h = H - P - 16;
  const svg = [`<svg class="reliability" data-method="${method}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect x="${P}" y="6" width="${W - P - 6}" height="${h}" fill="none" stroke="#ccd"/>`,
    `<line x1="${P}" y1="${6 + h}" x2="${W - 6}" y2="6" stroke="#999" stroke-dasharray="3 3"/>`];
  record.bins.forEach((b, i) => {
    const x = P + i * w;
    if (b.count > 0) {
      const bh = (b.accuracy ?? 0) * h;
      svg.push(`<rect class="bin" x="${x + 1}" y="${6 + h - bh}" width="${w - 2}" height="${bh}" fill="${COLORS[method]}" opacity="0.75"/>`);
    }
    svg.push(`<text x="${x + w / 2}" y="${H - 4}" text-anchor="middle">${b.count}</text>`);
  });
  svg.push(`<text x="2" y="14">1</text><text x="2" y="${6 + h}">0</text></svg>`);
  return `<figure>${svg.join("")}<figcaption>${NAMES[method]} · ${title}<br>n ${record.n}, ECE ${pct(record.ece)}</figcaption></figure>`;
}

function drawReliability() {
  const parts = [];
  METHODS.forEach(m => {
    if (state.running[m]) parts.push(reliability(state.running[m], "running", m));
    if (state.latest[m]) parts.push(reliability(state.latest[m], "latest window", m));
  });
  if (parts.length) document.getElementById("reliability").innerHTML = parts.join("");
}

// ---- tables ----
function pct(x) { return x == null ? "–" : (100 * x).toFixed(1) + "%"; }
function num(x, d) { return x == null ? "–" : Number(x).toFixed(d); }
function esc(s) { return String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }

function drawSegments() {
  if (!state.segments.size) return;
  const head = "<tr><th>segment</th><th>n</th>" + METHODS.map(m => `<th>${NAMES[m]} ECE (running)</th><th>latest window</th><th>accuracy</th>`).join("") + "</tr>";
  // only segments with outcomes in the latest window compete for "worst": an older window is not news
  const latest = state.latest.laplace ? state.latest.laplace.lastOutcome : -1;
  const current = s => s.window.laplace && s.window.laplace.lastOutcome === latest;
  const worst = Math.max(...[...state.segments.values()].filter(current).map(s => s.window.laplace.ece));
  const rows = [...state.segments.entries()].sort().map(([name, s]) => {
    const cells = METHODS.map(m => {
      const r = s.running[m], w = s.window[m];
      const bad = m === "laplace" && current(s) && w.ece === worst && state.segments.size > 1 ? " class=\"bad\"" : "";
      return `<td>${pct(r && r.ece)}</td><td${bad}>${pct(w && w.ece)}</td><td>${pct(r && r.accuracy)}</td>`;
    }).join("");
    return `<tr><td>${esc(name)}</td><td>${s.running.laplace ? s.running.laplace.n : 0}</td>${cells}</tr>`;
  });
  document.getElementById("segments").innerHTML = `<table>${head}${rows.join("")}</table>`;
}

function drawRefits() {
  if (!state.refits.length) return;
  const rows = [...state.refits].reverse().map(r => `<tr class="${r.accepted ? "accepted" : "rejected"}">
    <td>${new Date(r.t).toLocaleTimeString()}</td><td>v${r.version}</td><td>${r.accepted ? "accepted" : "rejected"}</td>
    <td>${esc(r.trigger)}</td><td>${esc(r.mode ?? "")}</td><td>${r.buffer}</td>
    <td>${num(r.before && r.before.nll, 3)} → ${num(r.after && r.after.nll, 3)}</td>
    <td>${pct(r.before && r.before.ece)} → ${pct(r.after && r.after.ece)}</td><td>${num(r.seconds, 1)} s</td>
    <td class="reason">${esc(r.reason)}</td></tr>`);
  document.getElementById("refits").innerHTML = "<table><tr><th>at</th><th>version</th><th>outcome</th><th>trigger</th><th>mode</th>" +
    "<th>buffer</th><th>gate NLL</th><th>gate ECE</th><th>took</th><th>reason</th></tr>" + rows.join("") + "</table>";
}

function drawMarkers() {
  const items = state.drifts.map(d => ({t: d.t, cls: "marker drift " + d.kind, text:
      `drift (${d.kind}): ${d.detector} on ${NAMES[d.method] ?? d.method}, statistic ${num(d.statistic, 2)} > ${num(d.threshold, 2)}, version ${d.version}`}))
    .concat(state.refits.map(r => ({t: r.t, cls: "marker refit " + (r.accepted ? "accepted" : "rejected"), text:
      `refit ${r.accepted ? "accepted" : "rejected"}: version ${r.version} (${r.trigger}${r.mode ? ", " + r.mode : ""})`})))
    .sort((a, b) => b.t - a.t);
  document.getElementById("markers").innerHTML = items.map(i =>
    `<li class="${esc(i.cls)}">${new Date(i.t).toLocaleTimeString()} ${esc(i.text)}</li>`).join("");
}

function draw() {
  drawCharts(); drawReliability(); drawSegments(); drawRefits(); drawMarkers();
  const versions = state.posteriors.map(p => p.version);
  const served = Object.entries(state.perVersion).map(([v, n]) => "v" + v + ": " + n).join(", ");
  document.getElementById("status").textContent = (state.caughtUp ? "live" : "reading history…") + " · " + state.predictions +
    " predictions" + (served ? " (" + served + ")" : "") + " · " + state.windows.size + " windows · " + state.drifts.length +
    " drift events · " + state.refits.length + " refits · posterior versions published: " + (versions.length ? versions.join(", ") : "none yet");
  document.body.dataset.caughtUp = state.caughtUp;
}
