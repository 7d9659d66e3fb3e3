// Live updates (server-sent events), only while the page is visible: a
// browser allows few connections per server, hidden tabs give theirs back.
// Features register a handler per event name with `on()`.

const handlers = {};
let source = null;

export function on(name, handler) {
  (handlers[name] = handlers[name] || []).push(handler);
  if (source) listen(name);
}

function listen(name) {
  source.addEventListener(name, (e) => {
    let data = {};
    try { data = JSON.parse(e.data || "{}"); } catch (err) { return; /* ignore a bad frame */ }
    handlers[name].forEach((h) => h(data));
  });
}

function connect() {
  if (source || !window.EventSource) return;
  source = new EventSource("/api/v1/events");
  Object.keys(handlers).forEach(listen);
}

function disconnect() {
  if (source) { source.close(); source = null; }
}

export function start() {
  document.addEventListener("visibilitychange", () => { if (document.hidden) disconnect(); else connect(); });
  window.addEventListener("pagehide", disconnect);
  if (!document.hidden) connect();
}
