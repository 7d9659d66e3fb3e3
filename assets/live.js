// Live updates (server-sent events). One tab of the browser holds the
// connection — the leader, chosen with a Web Lock — and hands each event to
// the other tabs over a BroadcastChannel: browsers allow six connections
// per server over HTTP/1.1, and a seventh tab must still load. A hidden
// tab never leads. A tab that comes back into view, or is restored with
// Back, refreshes what it shows (`onResync`).

// Every event the server sends: the leader passes them all on, whatever
// its own page listens to.
const EVENTS = ["user", "library", "perf", "resync"];
const handlers = {};
const resyncs = [];
let source = null;
let channel = null;
let release = null; // ends this tab's leadership
let asking = null; // a lock request not granted yet
let hiddenAt = 0;

export function on(name, handler) {
  (handlers[name] = handlers[name] || []).push(handler);
}

/** `fn` runs when the page may have missed events (back into view). */
export function onResync(fn) {
  resyncs.push(fn);
}

function dispatch(name, data) {
  (handlers[name] || []).forEach((h) => h(data));
}

function connect() {
  if (source || !window.EventSource) return;
  source = new EventSource("/api/v1/events");
  EVENTS.forEach((name) => source.addEventListener(name, (e) => {
    let data = {};
    try { data = JSON.parse(e.data || "{}"); } catch (err) { return; /* ignore a bad frame */ }
    dispatch(name, data);
    if (channel) channel.postMessage({ name, data });
  }));
}

function disconnect() {
  if (source) { source.close(); source = null; }
}

/** Becomes the leader when no other tab is (or holds its own stream
 * where tabs cannot share one). */
function lead() {
  if (!channel || !navigator.locks) { connect(); return; }
  if (release || asking) return;
  asking = new AbortController();
  navigator.locks.request("vidserve-live", { signal: asking.signal }, () => {
    asking = null;
    connect();
    return new Promise((resolve) => {
      release = () => { release = null; disconnect(); resolve(); };
    });
  }).catch(() => { asking = null; /* withdrawn */ });
}

function stepDown() {
  if (asking) { asking.abort(); asking = null; }
  if (release) release();
  disconnect();
}

function resync() {
  resyncs.forEach((fn) => fn());
}

export function start() {
  if (window.BroadcastChannel) {
    channel = new BroadcastChannel("vidserve-live");
    channel.onmessage = (e) => { if (e.data && e.data.name) dispatch(e.data.name, e.data.data || {}); };
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      hiddenAt = Date.now();
      stepDown();
    } else {
      lead();
      if (Date.now() - hiddenAt > 1000) resync();
    }
  });
  window.addEventListener("pagehide", stepDown);
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    if (!document.hidden) lead();
    resync();
  });
  if (!document.hidden) lead();
}
