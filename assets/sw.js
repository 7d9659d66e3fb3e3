// The service worker (where the browser allows one: localhost, or https):
// the app's shell — styles, scripts, icons — comes from a cache first (their
// URLs change with each version), and pages fall back to the last copy seen
// when the server cannot be reached. Video, images and the API always go
// to the server.

const SHELL = "vidserve-shell";
const PAGES = "vidserve-pages";

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(PAGES).then((c) => c.add("/")).catch(() => {}).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(self.clients.claim());
});

self.addEventListener("message", (e) => {
  // Signing out: nothing of this person stays behind.
  if (e.data === "forget") e.waitUntil(caches.delete(PAGES));
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

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== location.origin || e.request.method !== "GET") return;
  if (url.pathname.startsWith("/assets/")) e.respondWith(shell(e.request));
  else if (e.request.mode === "navigate") e.respondWith(page(e.request));
});
