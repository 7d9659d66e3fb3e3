// A picture on every card, even without ffmpeg: for cards in view that
// have none, a few at a time, a muted video loads its metadata, seeks a
// little way in, draws that frame on a canvas and sends it to the server
// (which checks and re-encodes it, and keeps the first). A library without
// ffmpeg fills itself as people browse.
import { api } from "./api.js";

/** The frame `video` shows, as a JPEG at most 640 px wide (`null` when it
 * cannot be read). */
export function frameBlob(video) {
  return new Promise((resolve) => {
    try {
      const canvas = document.createElement("canvas");
      const scale = Math.min(1, 640 / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(resolve, "image/jpeg", 0.85);
    } catch (e) { resolve(null); /* a tainted or undecodable frame */ }
  });
}

const AT_ONCE = 2;
// After this many refusals (no right to add pictures, say), stop trying.
const GIVE_UP = 3;
const queue = [];
let running = 0;
let refused = 0;

function next() {
  while (running < AT_ONCE && queue.length && refused < GIVE_UP) {
    const card = queue.shift();
    running++;
    capture(card).finally(() => { running--; next(); });
  }
}

/** The card's picture, now that the server has one. */
function show(card, id) {
  const initial = card.querySelector(".thumb .initial");
  if (!initial) return;
  const img = document.createElement("img");
  img.src = "/thumb/" + id + "/320";
  img.alt = "";
  img.decoding = "async";
  initial.replaceWith(img);
}

function capture(card) {
  const id = card.dataset.id;
  return new Promise((resolve) => {
    const v = document.createElement("video");
    v.muted = true;
    v.preload = "metadata";
    v.playsInline = true;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      v.removeAttribute("src");
      v.load();
      resolve();
    };
    const timer = setTimeout(finish, 15000);
    v.addEventListener("loadedmetadata", () => {
      const d = Number.isFinite(v.duration) ? v.duration : 0;
      v.currentTime = Math.min(Math.max(1, d * 0.1), Math.max(0, d - 0.5));
    });
    v.addEventListener("seeked", async () => {
      const blob = v.videoWidth ? await frameBlob(v) : null;
      if (blob) {
        const ok = await api("POST", "/api/v1/videos/" + id + "/thumbnail", blob, { quiet: true });
        if (ok) show(card, id); else refused++;
      }
      finish();
    }, { once: true });
    v.addEventListener("error", finish);
    v.src = "/video/" + id;
  });
}

export function init() {
  const bare = [...document.querySelectorAll(".card[data-id]")].filter((c) => c.querySelector(".thumb .initial"));
  if (!bare.length || !window.IntersectionObserver || !HTMLCanvasElement.prototype.toBlob) return;
  const seen = new IntersectionObserver((entries) => {
    entries.forEach((e) => {
      if (!e.isIntersecting) return;
      seen.unobserve(e.target);
      queue.push(e.target);
    });
    next();
  }, { rootMargin: "200px" });
  bare.forEach((c) => seen.observe(c));
}
