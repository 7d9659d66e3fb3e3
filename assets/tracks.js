// The watch page's tracks: the subtitle menu (the choice remembered for
// the next video), chapters (buttons that seek, the current one marked)
// and the audio track menu, where the browser can switch tracks.
const player = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
const KEY = "vidserve-subtitles";

function remember(value) {
  try { localStorage.setItem(KEY, value); } catch (e) { /* storage may be off */ }
}

function subtitles() {
  const tracks = player.textTracks;
  const menu = /** @type {HTMLSelectElement | null} */ (document.getElementById("subtitle-choice"));
  if (!tracks || !tracks.length) return;
  const all = () => [...tracks];
  const show = (n) => all().forEach((t, i) => { t.mode = i === n ? "showing" : "disabled"; });
  let chosen = null;
  try { chosen = localStorage.getItem(KEY); } catch (e) { /* storage may be off */ }
  if (chosen === "off") show(-1);
  else if (chosen !== null) {
    const n = all().findIndex((t) => (t.language || t.label) === chosen);
    if (n >= 0) show(n);
  }
  const sync = () => {
    if (!menu) return;
    const n = all().findIndex((t) => t.mode === "showing");
    menu.value = n < 0 ? "off" : String(n);
  };
  sync();
  // The player's own menu changes them too.
  tracks.addEventListener("change", () => {
    const on = all().find((t) => t.mode === "showing");
    remember(on ? on.language || on.label : "off");
    sync();
  });
  if (menu) menu.addEventListener("change", () => show(menu.value === "off" ? -1 : Number(menu.value)));
}

function chapters() {
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".chapter-marks span[data-at]"))
    .forEach((m) => { m.style.left = m.dataset.at + "%"; });
  const list = document.getElementById("chapters");
  if (!list) return;
  const buttons = /** @type {HTMLButtonElement[]} */ ([...list.querySelectorAll("button.chapter")]);
  const starts = buttons.map((b) => Number(b.dataset.start) / 1000);
  buttons.forEach((b, i) => b.addEventListener("click", () => {
    player.currentTime = starts[i];
    if (player.paused) player.play().catch(() => { /* the user can press play */ });
  }));
  let current = -1;
  player.addEventListener("timeupdate", () => {
    let n = -1;
    starts.forEach((s, i) => { if (s <= player.currentTime + 0.05) n = i; });
    if (n === current) return;
    if (current >= 0) buttons[current].removeAttribute("aria-current");
    if (n >= 0) buttons[n].setAttribute("aria-current", "true");
    current = n;
  });
}

function audio() {
  const menu = /** @type {HTMLSelectElement | null} */ (document.getElementById("audio-choice"));
  if (!menu) return;
  const note = document.getElementById("audio-note");
  // Not in every browser, nor in TypeScript's DOM types.
  /** @type {Iterable<{ enabled: boolean }> | undefined} */
  const list = /** @type {any} */ (player).audioTracks;
  // A transcode (transcode.js) is made with one track: another is another stream.
  menu.addEventListener("change", (e) => {
    if (!player.dataset.transcoding) return;
    e.stopImmediatePropagation();
    player.dataset.audio = menu.value;
    player.dispatchEvent(new Event("vidserve-audio"));
    note.textContent = "Audio: " + menu.selectedOptions[0].textContent.trim();
  });
  if (!list && player.dataset.remuxed) {
    // The remuxed stream carries one audio track: another one is another stream.
    menu.addEventListener("change", () => {
      const at = player.currentTime;
      const playing = !player.paused;
      const url = new URL(player.currentSrc || player.src, location.href);
      url.searchParams.set("audio", menu.value);
      player.src = url.pathname + url.search;
      player.addEventListener("loadedmetadata", () => {
        player.currentTime = at;
        if (playing) player.play().catch(() => { /* the user can press play */ });
      }, { once: true });
      note.textContent = "Audio: " + menu.selectedOptions[0].textContent.trim();
    });
    return;
  }
  if (!list) {
    if (player.dataset.mustTranscode) return;
    menu.disabled = true;
    note.textContent = "This browser plays the first audio track; Open in VLC for the others.";
    return;
  }
  const sync = () => {
    const n = [...list].findIndex((t) => t.enabled);
    if (n >= 0) menu.value = String(n);
  };
  player.addEventListener("loadedmetadata", sync);
  menu.addEventListener("change", () => {
    [...list].forEach((t, i) => { t.enabled = i === Number(menu.value); });
    note.textContent = "Audio: " + menu.selectedOptions[0].textContent.trim();
  });
}

export function init() {
  if (!player) return;
  const box = document.getElementById("track-choices");
  if (box) box.hidden = false;
  subtitles();
  chapters();
  audio();
}
