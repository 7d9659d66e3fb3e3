// The player's own controls over the video (drawn by the server, hidden
// until this runs; without it the browser's controls stay): they hide
// while the video plays and nobody moves, and come back on any pointer,
// touch or key; a menu of subtitles, audio and speed; chapters on the
// seek bar; a double tap on a phone's left or right third goes back or on
// ten seconds; `?` shows every shortcut. The subtitle and audio menus
// below the video stay the source of truth (tracks.js): this menu sets
// them.

const player = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
const box = document.getElementById("player-box");
const bar = document.getElementById("controls");

/** Seconds a playing video's controls stay after the last movement. */
const IDLE_MS = 2500;
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const VOLUME_KEY = "vidserve-volume";

/** `1:05`, `1:02:03` (the second a moment is in; a length is rounded
 * first, as the pages show it). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = String(s % 60).padStart(2, "0");
  return h > 0 ? h + ":" + String(m).padStart(2, "0") + ":" + r : m + ":" + r;
}

/** The film's length: the player's, or (a transcode, whose stream has no
 * length ahead) the catalog's. */
export function length() {
  const d = player.duration;
  if (Number.isFinite(d) && d > 0) return d;
  return Number(player.dataset.duration || 0) / 1000;
}

/** Goes to `seconds` (within the film). */
export function seekTo(seconds) {
  const d = length();
  player.currentTime = Math.max(0, d ? Math.min(d, seconds) : seconds);
  show();
}

let hideTimer = 0;

/** Shows the controls, and hides them again after a while if it plays. */
export function show() {
  if (!box) return;
  box.classList.remove("idle");
  clearTimeout(hideTimer);
  hideTimer = window.setTimeout(() => {
    const menuOpen = !document.getElementById("c-menu").hidden;
    const inside = bar.contains(document.activeElement) && document.activeElement !== document.getElementById("seek");
    if (!player.paused && !menuOpen && !inside) box.classList.add("idle");
  }, IDLE_MS);
}

function playButton() {
  const button = document.getElementById("c-play");
  const sync = () => {
    box.dataset.state = player.paused ? "paused" : "playing";
    button.setAttribute("aria-label", player.paused ? "Play" : "Pause");
    if (player.paused) box.classList.remove("idle"); else show();
  };
  button.addEventListener("click", () => { if (player.paused) player.play().catch(() => {}); else player.pause(); });
  ["play", "pause", "ended", "loadedmetadata"].forEach((e) => player.addEventListener(e, sync));
  sync();
  document.getElementById("c-back").addEventListener("click", () => seekTo(player.currentTime - 10));
  document.getElementById("c-on").addEventListener("click", () => seekTo(player.currentTime + 10));
}

/** The chapter at `t` seconds, from the marks on the bar (their titles). */
function chapterAt(t) {
  let name = "";
  document.querySelectorAll(".controls .chapter-marks span[data-start]").forEach((m) => {
    const mark = /** @type {HTMLElement} */ (m);
    if (Number(mark.dataset.start) / 1000 <= t + 0.05) name = mark.title;
  });
  return name;
}

function seekBar() {
  const seek = /** @type {HTMLInputElement} */ (document.getElementById("seek"));
  const time = document.getElementById("c-time");
  const chapter = document.getElementById("c-chapter");
  const first = document.querySelector(".controls .chapter-marks span[data-start]");
  let dragging = false;
  const update = () => {
    const d = length();
    const t = player.currentTime || 0;
    if (!dragging) seek.value = String(d ? Math.round((t / d) * 1000) : 0);
    time.textContent = clock(t) + " / " + clock(Math.round(d));
    // Before the first mark is the first chapter, which has no mark.
    const name = first ? chapterAt(t) || firstChapterName() : "";
    chapter.textContent = name;
    seek.setAttribute("aria-valuetext", clock(t) + " of " + clock(Math.round(d)) + (name ? ", " + name : ""));
  };
  ["timeupdate", "durationchange", "loadedmetadata", "seeked"].forEach((e) => player.addEventListener(e, update));
  seek.addEventListener("input", () => {
    dragging = true;
    const at = (Number(seek.value) / 1000) * length();
    time.textContent = clock(at) + " / " + clock(Math.round(length()));
    seekTo(at);
  });
  seek.addEventListener("change", () => { dragging = false; update(); });
  update();
}

/** The first chapter's name (the list below the player has every one). */
function firstChapterName() {
  const b = document.querySelector("#chapters button.chapter");
  if (!b) return "";
  const time = b.querySelector(".time");
  return (b.textContent || "").replace(time ? time.textContent || "" : "", "").trim();
}

function sound() {
  const mute = document.getElementById("c-mute");
  const volume = /** @type {HTMLInputElement} */ (document.getElementById("c-volume"));
  try {
    const kept = localStorage.getItem(VOLUME_KEY);
    if (kept !== null && Number.isFinite(Number(kept))) player.volume = Math.min(1, Math.max(0, Number(kept)));
  } catch (e) { /* storage may be off */ }
  const sync = () => {
    const off = player.muted || player.volume === 0;
    box.dataset.sound = off ? "off" : "on";
    mute.setAttribute("aria-label", off ? "Sound on" : "Sound off");
    volume.value = String(player.muted ? 0 : player.volume);
    volume.setAttribute("aria-valuetext", Math.round((player.muted ? 0 : player.volume) * 100) + " %");
  };
  player.addEventListener("volumechange", () => {
    sync();
    try { localStorage.setItem(VOLUME_KEY, String(player.volume)); } catch (e) { /* storage may be off */ }
  });
  mute.addEventListener("click", () => { player.muted = !player.muted; });
  volume.addEventListener("input", () => {
    player.volume = Number(volume.value);
    player.muted = player.volume === 0;
  });
  sync();
}

/** Changes the volume by `step` (and unmutes when louder). */
export function louder(step) {
  player.volume = Math.min(1, Math.max(0, Math.round((player.volume + step) * 100) / 100));
  if (step > 0) player.muted = false;
  show();
}

/** One button of the menu: pressed when `on()`. */
function choice(label, on, pick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  const sync = () => b.setAttribute("aria-pressed", on() ? "true" : "false");
  b.addEventListener("click", () => { pick(); menuSync(); });
  syncs.push(sync);
  return b;
}

/** @type {(() => void)[]} */
const syncs = [];
function menuSync() { syncs.forEach((s) => s()); }

/** An empty group of the menu, headed `heading` (its heading's id `id`). */
function menuGroup(id, heading) {
  const group = document.createElement("div");
  group.setAttribute("role", "group");
  group.setAttribute("aria-labelledby", id);
  const h = document.createElement("h3");
  h.id = id;
  h.textContent = heading;
  group.appendChild(h);
  return group;
}

/** A group of the menu, made from one of the page's menus (`select`). */
function fromSelect(heading, select) {
  const group = menuGroup("c-menu-" + select.id, heading);
  [...select.options].forEach((o) => {
    const b = choice(o.textContent.trim(), () => select.value === o.value, () => {
      select.value = o.value;
      select.dispatchEvent(new Event("change"));
    });
    b.disabled = o.disabled;
    group.appendChild(b);
  });
  return group;
}

/** Subtitles on or off (`C`): off, or back to the last ones (else the first). */
let lastSubtitle = "0";
export function toggleSubtitles() {
  const select = /** @type {HTMLSelectElement | null} */ (document.getElementById("subtitle-choice"));
  if (!select || select.options.length < 2) return;
  if (select.value === "off") select.value = lastSubtitle;
  else { lastSubtitle = select.value; select.value = "off"; }
  select.dispatchEvent(new Event("change"));
  menuSync();
  show();
}

/** Slower or faster (`<`, `>`), along the menu's speeds. */
export function faster(direction) {
  const i = SPEEDS.findIndex((s) => s >= player.playbackRate - 0.001);
  const next = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, (i < 0 ? 2 : i) + direction))];
  player.playbackRate = next;
  menuSync();
  show();
}

function menu() {
  const button = document.getElementById("c-settings");
  const panel = document.getElementById("c-menu");
  const subs = /** @type {HTMLSelectElement | null} */ (document.getElementById("subtitle-choice"));
  const audio = /** @type {HTMLSelectElement | null} */ (document.getElementById("audio-choice"));
  if (subs) panel.appendChild(fromSelect("Subtitles", subs));
  if (audio && !audio.disabled) panel.appendChild(fromSelect("Audio", audio));
  // On a phone the menu is a sheet over the page: it says what it is,
  // and closes by its own button.
  const head = document.createElement("div");
  head.className = "menu-head";
  const title = document.createElement("span");
  title.textContent = "Player settings";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "menu-close";
  close.textContent = "Done";
  head.append(title, close);
  panel.prepend(head);
  const speed = menuGroup("c-menu-speed", "Speed");
  SPEEDS.forEach((s) => speed.appendChild(choice(s === 1 ? "Normal" : s + "×", () => Math.abs(player.playbackRate - s) < 0.001,
    () => { player.playbackRate = s; })));
  panel.appendChild(speed);
  player.addEventListener("ratechange", menuSync);
  if (subs) subs.addEventListener("change", menuSync);
  if (player.textTracks) player.textTracks.addEventListener("change", menuSync);
  const open = (yes) => {
    if (yes) quality(panel);
    panel.hidden = !yes;
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    if (yes) {
      menuSync();
      const on = /** @type {HTMLButtonElement | null} */ (panel.querySelector("button[aria-pressed=true]"));
      (on || /** @type {HTMLButtonElement} */ (panel.querySelector("[role=group] button"))).focus();
    }
    show();
  };
  button.addEventListener("click", () => open(panel.hidden));
  close.addEventListener("click", () => { open(false); button.focus(); });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      open(false);
      button.focus();
    }
    // Up and down move between its buttons.
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      const all = /** @type {HTMLButtonElement[]} */ ([...panel.querySelectorAll("button:not([disabled])")])
        .filter((b) => b.offsetParent !== null);
      const i = all.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      const next = all[(i + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length];
      if (next) next.focus();
      e.preventDefault();
      e.stopPropagation();
    }
  });
  // A click elsewhere closes it.
  document.addEventListener("pointerdown", (e) => {
    const t = /** @type {Node} */ (e.target);
    if (!panel.hidden && !panel.contains(t) && !button.contains(t)) open(false);
  });
  // The menus below the video are now in here.
  const below = document.getElementById("track-choices");
  if (below) below.classList.add("in-player");
}

/** A transcode's size (the server makes it as it plays): Auto, or one of
 * the usual heights up to the video's own. Added to the menu once the
 * player plays a transcode. */
function quality(panel) {
  if (!player.dataset.transcoding || player.dataset.copy || panel.querySelector("[aria-labelledby=c-menu-quality]")) {
    return;
  }
  const own = Number(player.getAttribute("height") || 0);
  const group = menuGroup("c-menu-quality", "Quality");
  const pick = (lines) => {
    if (lines) player.dataset.height = String(lines); else delete player.dataset.height;
    player.dispatchEvent(new Event("vidserve-quality"));
  };
  group.appendChild(choice("Auto", () => !player.dataset.height, () => pick(0)));
  [1080, 720, 480, 360, 240].filter((l) => !own || l <= own).forEach((l) => {
    group.appendChild(choice(l + "p", () => player.dataset.height === String(l), () => pick(l)));
  });
  panel.insertBefore(group, panel.firstChild);
}

/** Full screen on the box, so the controls stay over the video. */
export function fullScreen() {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else if (box.requestFullscreen) box.requestFullscreen().catch(() => {});
  // iPhones put only a video in full screen, with their own controls.
  else if (/** @type {any} */ (player).webkitEnterFullscreen) /** @type {any} */ (player).webkitEnterFullscreen();
}

/** Picture in picture, where the browser has it. */
export function pictureInPicture() {
  if (!document.pictureInPictureEnabled) return;
  if (document.pictureInPictureElement) document.exitPictureInPicture().catch(() => {});
  else player.requestPictureInPicture().catch(() => {});
}

function screens() {
  const full = document.getElementById("c-full");
  full.addEventListener("click", fullScreen);
  document.addEventListener("fullscreenchange", () => {
    const on = document.fullscreenElement === box;
    box.classList.toggle("full", on);
    full.setAttribute("aria-label", on ? "Leave full screen" : "Full screen");
  });
  const pip = document.getElementById("c-pip");
  if (document.pictureInPictureEnabled) {
    pip.hidden = false;
    pip.addEventListener("click", pictureInPicture);
  }
  const help = document.getElementById("c-help");
  help.addEventListener("click", () => showShortcuts());
}

/** The `?` panel. */
export function showShortcuts() {
  const d = /** @type {HTMLDialogElement | null} */ (document.getElementById("shortcuts"));
  // The settings menu closes first (it stayed open behind the list).
  const menuPanel = document.getElementById("c-menu");
  if (menuPanel && !menuPanel.hidden) document.getElementById("c-settings").click();
  if (d && !d.open) d.showModal();
}

/** Shows `text` over the left or right of the video for a moment. */
function flash(text, side) {
  const jump = document.getElementById("c-jump");
  jump.textContent = text;
  jump.className = "jump " + side;
  jump.hidden = false;
  clearTimeout(Number(jump.dataset.timer || 0));
  jump.dataset.timer = String(window.setTimeout(() => { jump.hidden = true; }, 700));
}

/** Taps and clicks on the picture: a click plays or pauses; a touch shows
 * the controls (or hides them); a double tap on the left or right third
 * goes back or on ten seconds, in the middle full screen. */
function taps() {
  let lastTap = 0;
  let single = 0;
  // Whether the controls were hidden when the finger came down (the box
  // shows them on any pointerdown, before the tap is known to be one).
  let wasIdle = false;
  // What the last press was made with: a dblclick is a MouseEvent with no
  // pointer type, also when it comes of two taps (handled above as a seek).
  let pressedWith = "mouse";
  player.addEventListener("pointerdown", (e) => {
    pressedWith = e.pointerType;
    if (e.pointerType !== "mouse") wasIdle = box.classList.contains("idle");
  });
  player.addEventListener("pointerup", (e) => {
    if (e.button !== 0) return;
    if (e.pointerType === "mouse") return;
    const r = player.getBoundingClientRect();
    const third = (e.clientX - r.left) / r.width;
    const now = e.timeStamp;
    if (now - lastTap < 300) {
      clearTimeout(single);
      lastTap = 0;
      if (third < 1 / 3) { seekTo(player.currentTime - 10); flash("− 10 s", "left"); }
      else if (third > 2 / 3) { seekTo(player.currentTime + 10); flash("+ 10 s", "right"); }
      else fullScreen();
      return;
    }
    lastTap = now;
    single = window.setTimeout(() => {
      if (wasIdle || box.classList.contains("idle")) show(); else if (!player.paused) box.classList.add("idle");
    }, 300);
  });
  player.addEventListener("click", (e) => {
    // Touch is handled above; a mouse click plays or pauses.
    if (/** @type {PointerEvent} */ (e).pointerType && /** @type {PointerEvent} */ (e).pointerType !== "mouse") return;
    if (player.paused) player.play().catch(() => {}); else player.pause();
  });
  player.addEventListener("dblclick", () => {
    if (pressedWith === "mouse") fullScreen();
  });
}

/** Keeps subtitles above the controls while these show (the browser
 * draws them at the picture's foot, under the bar); cues a file places
 * itself are left where they are. */
function cuesAboveControls() {
  /** @type {WeakSet<TextTrackCue>} */
  const moved = new WeakSet();
  const place = () => {
    const h = player.clientHeight;
    if (!h) return;
    const room = box.classList.contains("idle") ? 0 : bar.offsetHeight;
    // The countdown to the next video sits just above the bar too.
    box.style.setProperty("--bar-h", room + "px");
    const line = Math.max(50, Math.round(100 - ((room + 8) / h) * 100));
    const tracks = player.textTracks;
    for (let i = 0; i < tracks.length; i++) {
      const cues = tracks[i].mode === "showing" ? tracks[i].cues : null;
      for (let j = 0; cues && j < cues.length; j++) {
        const cue = /** @type {VTTCue} */ (cues[j]);
        if (!moved.has(cue) && cue.line !== "auto") continue;
        moved.add(cue);
        if (cue.line === line && !cue.snapToLines) continue;
        cue.snapToLines = false;
        cue.lineAlign = "end";
        cue.line = line;
      }
    }
  };
  new MutationObserver(place).observe(box, { attributes: true, attributeFilter: ["class"] });
  player.textTracks.addEventListener("change", place);
  player.textTracks.addEventListener("addtrack", (e) => {
    if (e.track) e.track.addEventListener("cuechange", place);
  });
  for (let i = 0; i < player.textTracks.length; i++) player.textTracks[i].addEventListener("cuechange", place);
  window.addEventListener("resize", place);
}

export function init() {
  if (!player || !box || !bar) return;
  player.controls = false;
  // Focus goes to the controls, not to the picture.
  player.tabIndex = -1;
  bar.hidden = false;
  box.classList.add("custom");
  playButton();
  seekBar();
  sound();
  menu();
  screens();
  taps();
  cuesAboveControls();
  // A click on the bar is no reason for the keyboard's focus ring.
  const seek = document.getElementById("seek");
  seek.addEventListener("pointerdown", () => { seek.dataset.pointer = "1"; });
  seek.addEventListener("keydown", () => { delete seek.dataset.pointer; });
  ["pointermove", "pointerdown", "focusin", "keydown"].forEach((e) => box.addEventListener(e, show));
  document.addEventListener("keydown", show);
  show();
}
