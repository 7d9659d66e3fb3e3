// The service worker (where the browser allows one: localhost, or https):
// the app's shell — styles, scripts, icons — comes from a cache first (their
// URLs change with each version), and pages fall back to the last copy seen
// when the server cannot be reached. A video saved for offline is played
// from its copy (ranges answered here); other videos, images and the API
// always go to the server.

const SHELL = "vidserve-shell";
const PAGES = "vidserve-pages";
// Videos saved for offline (by the watch page's button).
const VIDEOS = "vidserve-videos";
// This worker's global scope (`self`), typed for the checker (tests/js).
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

sw.addEventListener("install", (e) => {
  e.waitUntil(caches.open(PAGES).then((c) => c.add("/")).catch(() => {}).then(() => sw.skipWaiting()));
});

sw.addEventListener("activate", (e) => {
  e.waitUntil(sw.clients.claim());
});

sw.addEventListener("message", (e) => {
  // Signing out: nothing of this person stays behind.
  if (e.data === "forget") e.waitUntil(Promise.all([caches.delete(PAGES), caches.delete(VIDEOS)]));
});

async function shell(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) cache.put(request, res.clone());
  return res;
}

async function page(request) {
  const cache = await caches.open(PAGES);
  try {
    const res = await fetch(request);
    if (res.ok && res.type === "basic") cache.put(request, res.clone());
    return res;
  } catch (err) {
    return (await cache.match(request)) || (await cache.match("/")) || Response.error();
  }
}

/** A saved video, answering ranges as the server would (players seek). */
async function video(request, path) {
  const hit = await (await caches.open(VIDEOS)).match(path);
  if (!hit) return fetch(request);
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("range") || "");
  if (!range) return hit;
  const blob = await hit.blob();
  const size = blob.size;
  let start = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
  let end = range[1] !== "" && range[2] !== "" ? Number(range[2]) : size - 1;
  end = Math.min(end, size - 1);
  if (start >= size || start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": "bytes */" + size } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": hit.headers.get("content-type") || "video/mp4",
      "Content-Range": "bytes " + start + "-" + end + "/" + size,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

sw.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== location.origin || e.request.method !== "GET") return;
  if (url.pathname.startsWith("/assets/")) e.respondWith(shell(e.request));
  else if (url.pathname.startsWith("/video/")) e.respondWith(video(e.request, url.pathname));
  else if (e.request.mode === "navigate") e.respondWith(page(e.request));
});
