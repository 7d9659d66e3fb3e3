// The admin dashboard: a minute of history per chart (the server's last
// minute at first, then `perf` events);
// the load test form.
import { api } from "./api.js";
import { on } from "./live.js";

const history = { req: [], p99: [], p50: [], mbs: [], rss: [] };

// Room at the bottom for the time axis, and at the top for the half of
// the top label above its line (the scale's room on the left is measured
// from its labels).
const BOTTOM = 14;
const TOP = 8;

/** Sizes the canvas's pixels to the size it is shown at (CSS pixels times
 * the screen's density), so nothing is stretched or cut; the drawing is
 * then in CSS pixels. */
function fit(c) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, c.clientWidth), h = Math.max(1, c.clientHeight);
  const pw = Math.round(w * dpr), ph = Math.round(h * dpr);
  if (c.width !== pw || c.height !== ph) { c.width = pw; c.height = ph; }
  const g = c.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { g, w, h };
}

/** A round number at or above `v` (1, 2 or 5 times a power of ten). */
function ceilNice(v) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1e-9))));
  return [1, 2, 5, 10].map((m) => m * p).find((n) => n >= v);
}

function short(v) {
  return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + "k" : String(+v.toFixed(2));
}

/** The chart's frame: axes with their scale and "60 s ago … now", and a
 * note while no data came yet. */
function draw(id, series, colors) {
  const c = /** @type {HTMLCanvasElement | null} */ (document.getElementById("chart-" + id));
  if (!c) return;
  const { g, w, h } = fit(c);
  const style = getComputedStyle(document.documentElement);
  const muted = style.getPropertyValue("--muted").trim() || "#888";
  const line = style.getPropertyValue("--line").trim() || "#444";
  g.clearRect(0, 0, w, h);
  let top = 0;
  series.forEach((s) => s.forEach((v) => { if (v > top) top = v; }));
  const max = ceilNice(top || 1);
  g.font = "11px system-ui, sans-serif";
  // Room for the widest label of the scale, whole.
  const LEFT = Math.ceil(Math.max(...[0, 0.5, 1].map((f) => g.measureText(short(max * f)).width))) + 8;
  c.dataset.left = String(LEFT);
  const pw = w - LEFT - 2, ph = h - BOTTOM - TOP - 2;
  g.fillStyle = muted;
  g.strokeStyle = line;
  g.lineWidth = 1;
  // Grid lines at 0, half and the top, each labelled.
  [0, 0.5, 1].forEach((f) => {
    const y = TOP + ph - f * ph;
    g.beginPath(); g.moveTo(LEFT, y); g.lineTo(w - 1, y); g.stroke();
    g.textAlign = "right"; g.textBaseline = "middle";
    g.fillText(short(max * f), LEFT - 4, y);
  });
  g.textBaseline = "bottom";
  g.textAlign = "left"; g.fillText("60 s ago", LEFT, h);
  g.textAlign = "right"; g.fillText("now", w - 1, h);
  if (!series.some((s) => s.length)) {
    g.textAlign = "center"; g.textBaseline = "middle";
    g.fillText("waiting for data…", LEFT + pw / 2, TOP + ph / 2);
    return;
  }
  series.forEach((s, k) => {
    g.strokeStyle = colors[k]; g.lineWidth = 2; g.beginPath();
    // The newest point at the right edge, older ones to its left.
    const start = 60 - s.length;
    s.forEach((v, i) => {
      const x = LEFT + ((start + i) / 59) * pw, y = TOP + ph - (v / max) * ph;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  });
}

function drawAll() {
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#ff7a50";
  draw("req", [history.req], [accent]);
  draw("p99", [history.p50, history.p99], ["#4caf50", accent]);
  draw("mbs", [history.mbs], [accent]);
  draw("rss", [history.rss], [accent]);
}

function onPerf(d) {
  const push = (k, v) => { history[k].push(v); if (history[k].length > 60) history[k].shift(); };
  push("req", d.requests_per_second); push("p50", d.p50_ms); push("p99", d.p99_ms);
  push("mbs", d.mb_per_second); push("rss", d.rss_mib);
  drawAll();
  const set = (id, text) => { const el = document.getElementById("now-" + id); if (el) el.textContent = text; };
  set("req", String(d.requests_per_second));
  set("p99", d.p50_ms.toFixed(2) + " / " + d.p99_ms.toFixed(2));
  set("mbs", d.mb_per_second.toFixed(1) + " (" + d.active_streams + (d.active_streams === 1 ? " stream)" : " streams)"));
  set("rss", String(d.rss_mib));
}

function loadTest(form) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("loadtest-result");
    out.textContent = "Running…";
    const scenario = /** @type {HTMLSelectElement} */ (document.getElementById("lt-scenario")).value;
    const d = await api("POST", "/admin/performance", { action: "load_test", scenario, connections: 20, duration: 5 });
    const r = d && d.report;
    out.textContent = r ? Math.round(r.requests_per_second) + " requests a second; half answered within " +
      r.p50_ms.toFixed(2) + " ms, 99 in 100 within " + r.p99_ms.toFixed(2) + " ms; " +
      (r.bytes_per_second / 1e6).toFixed(1) + " MB/s; " + r.errors + (r.errors === 1 ? " error" : " errors")
      : "The load test did not run.";
  });
}

export function init() {
  const dashboard = document.getElementById("dashboard");
  if (dashboard) {
    // The last minute as the server kept it, then each second as it comes.
    let kept = [];
    try { kept = JSON.parse(dashboard.dataset.history || "[]"); } catch (e) { /* drawn empty */ }
    kept.forEach(onPerf);
    drawAll(); // the axes at once, before the first numbers
    on("perf", onPerf);
    window.addEventListener("resize", drawAll);
  }
  const form = document.getElementById("loadtest-form");
  if (form) loadTest(form);
}
