// The admin dashboard: a minute of history per chart, from `perf` events;
// the load test form.
import { api } from "./api.js";
import { on } from "./live.js";

const history = { req: [], p99: [], p50: [], mbs: [], rss: [] };

function draw(id, series, colors) {
  const c = document.getElementById("chart-" + id);
  if (!c) return;
  const g = c.getContext("2d"), w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  let max = 1;
  series.forEach((s) => s.forEach((v) => { if (v > max) max = v; }));
  series.forEach((s, k) => {
    g.strokeStyle = colors[k]; g.lineWidth = 2; g.beginPath();
    s.forEach((v, i) => {
      const x = (i / 59) * (w - 2) + 1, y = h - 2 - (v / max) * (h - 6);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  });
}

function onPerf(d) {
  const push = (k, v) => { history[k].push(v); if (history[k].length > 60) history[k].shift(); };
  push("req", d.requests_per_second); push("p50", d.p50_ms); push("p99", d.p99_ms);
  push("mbs", d.mb_per_second); push("rss", d.rss_mib);
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#ff7a50";
  draw("req", [history.req], [accent]);
  draw("p99", [history.p50, history.p99], ["#4caf50", accent]);
  draw("mbs", [history.mbs], [accent]);
  draw("rss", [history.rss], [accent]);
  const set = (id, text) => { const el = document.getElementById("now-" + id); if (el) el.textContent = text; };
  set("req", String(d.requests_per_second));
  set("p99", d.p50_ms.toFixed(2) + " / " + d.p99_ms.toFixed(2));
  set("mbs", d.mb_per_second.toFixed(1) + " (" + d.active_streams + " streams)");
  set("rss", String(d.rss_mib));
}

function loadTest(form) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("loadtest-result");
    out.textContent = "Running…";
    const scenario = document.getElementById("lt-scenario").value;
    const d = await api("POST", "/admin/performance", { action: "load_test", scenario, connections: 20, duration: 5 });
    const r = d && d.report;
    out.textContent = r ? Math.round(r.requests_per_second) + " req/s, p50 " + r.p50_ms.toFixed(2) + " ms, p99 " +
      r.p99_ms.toFixed(2) + " ms, " + (r.bytes_per_second / 1e6).toFixed(1) + " MB/s, " + r.errors + " errors"
      : "The load test did not run.";
  });
}

export function init() {
  if (document.getElementById("dashboard")) on("perf", onPerf);
  const form = document.getElementById("loadtest-form");
  if (form) loadTest(form);
}
