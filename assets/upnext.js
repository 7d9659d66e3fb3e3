// The watch page goes on with the listing it came from: when a video ends,
// the next one opens after a short countdown (Autoplay, remembered; the
// countdown can be cancelled), or the same one plays again (Loop).
// Shift+N and Shift+P open the next and previous video.
const player = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
const KEY = "vidserve-autoplay";
const WAIT = 5;

function stored() {
  try { return localStorage.getItem(KEY) !== "off"; } catch (e) { return true; }
}

function toggle(button, on) {
  button.setAttribute("aria-pressed", String(on));
}

export function init() {
  const box = document.getElementById("up-next");
  if (!player || !box) return;
  const next = /** @type {HTMLAnchorElement | null} */ (document.getElementById("next-link"));
  const autoplay = document.getElementById("autoplay");
  const loop = document.getElementById("loop");
  const text = document.getElementById("next-text");
  const cancel = document.getElementById("next-cancel");
  const now = /** @type {HTMLAnchorElement} */ (document.getElementById("next-now"));
  let timer = null;
  let quiet = null;
  // What it says goes after a few seconds (it sits over the picture).
  const stop = (said) => {
    if (timer) clearInterval(timer);
    timer = null;
    cancel.hidden = true;
    now.hidden = true;
    text.textContent = said || "";
    clearTimeout(quiet);
    if (said) quiet = setTimeout(() => { text.textContent = ""; }, 3000);
  };

  loop.hidden = false;
  loop.addEventListener("click", () => {
    player.loop = !player.loop;
    toggle(loop, player.loop);
  });
  if (next) {
    autoplay.hidden = false;
    toggle(autoplay, stored());
    autoplay.addEventListener("click", () => {
      const on = autoplay.getAttribute("aria-pressed") !== "true";
      toggle(autoplay, on);
      try { localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* storage may be off */ }
      if (!on) stop("Autoplay off.");
    });
    cancel.addEventListener("click", () => stop("Stopped here."));
    player.addEventListener("ended", () => {
      if (player.loop || autoplay.getAttribute("aria-pressed") !== "true") return;
      const title = next.textContent.replace(/^\s*(Up next|Shuffle):\s*/, "").replace(/\s*›\s*$/, "");
      let left = WAIT;
      const tick = () => {
        if (left <= 0) { stop(); location.href = next.href; return; }
        text.textContent = "Next in " + left + " s: " + title;
        left -= 1;
      };
      now.href = next.href;
      now.hidden = false;
      cancel.hidden = false;
      clearTimeout(quiet);
      tick();
      timer = setInterval(tick, 1000);
    });
    // Seeking back or playing again means staying.
    player.addEventListener("play", () => { if (timer) stop(); });
    player.addEventListener("seeking", () => { if (timer) stop("Stopped here."); });
  }
  document.addEventListener("keydown", (e) => {
    if (!e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = /** @type {Element} */ (e.target);
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    const prev = /** @type {HTMLAnchorElement | null} */ (box.querySelector("a[rel=prev]"));
    const link = e.key === "N" ? next : e.key === "P" ? prev : null;
    if (!link) return;
    e.preventDefault();
    location.href = link.href;
  });
}
