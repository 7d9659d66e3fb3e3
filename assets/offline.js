// "Save for offline" on the watch page: the video's bytes go into the
// browser's Cache Storage (with a progress bar), the service worker plays
// them from there — seeking included — when the server cannot be reached.
// Where the browser allows it only (a service worker: localhost or https).

export const VIDEOS = "vidserve-videos";

function mb(n) {
  if (n >= 1073741824) return (n / 1073741824).toFixed(n < 10737418240 ? 1 : 0) + " GB";
  return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + " MB";
}

async function quota(status, prefix) {
  let text = prefix;
  try {
    const e = await navigator.storage.estimate();
    if (e.quota) text += " Using " + mb(e.usage || 0) + " of " + mb(e.quota) + " the browser allows.";
  } catch (err) { /* no estimate here */ }
  status.textContent = text;
}

export function init() {
  const box = document.getElementById("offline");
  if (!box || !window.caches || !("serviceWorker" in navigator) || !window.isSecureContext || !window.TransformStream) return;
  const url = "/video/" + box.dataset.id;
  const save = /** @type {HTMLButtonElement} */ (document.getElementById("offline-save"));
  const remove = /** @type {HTMLButtonElement} */ (document.getElementById("offline-remove"));
  const bar = /** @type {HTMLProgressElement} */ (document.getElementById("offline-progress"));
  const status = document.getElementById("offline-status");
  const show = (saved) => { save.hidden = saved; remove.hidden = !saved; bar.hidden = true; };
  box.hidden = false;
  caches.open(VIDEOS).then((c) => c.match(url)).then((hit) => {
    show(!!hit);
    if (hit) quota(status, "Saved for offline.");
  });
  save.addEventListener("click", async () => {
    save.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Saving…";
    try {
      const res = await fetch(url);
      if (!res.ok || !res.body) throw new Error(res.statusText || "error " + res.status);
      const total = Number(res.headers.get("content-length")) || 0;
      let got = 0;
      const counted = res.body.pipeThrough(new TransformStream({
        transform(chunk, out) {
          got += chunk.length;
          if (total) bar.value = Math.floor((got / total) * 100);
          out.enqueue(chunk);
        },
      }));
      const headers = new Headers({ "Content-Type": res.headers.get("content-type") || "video/mp4" });
      await (await caches.open(VIDEOS)).put(url, new Response(counted, { headers }));
      show(true);
      await quota(status, "Saved for offline.");
    } catch (e) {
      bar.hidden = true;
      status.textContent = "Not saved: " + e.message;
    }
    save.disabled = false;
  });
  remove.addEventListener("click", async () => {
    await (await caches.open(VIDEOS)).delete(url);
    show(false);
    await quota(status, "The offline copy is removed.");
  });
}
