// The watch page's player: resume and remember the position, count a view,
// send a frame when there is no thumbnail, seek previews, keyboard keys,
// other screens.
import { api } from "./api.js";
import { send } from "./watch.js";
import { frameBlob } from "./frames.js";
import { transcode } from "./transcode.js";
import { faster, fullScreen, length, louder, pictureInPicture, seekTo, showShortcuts, toggleSubtitles } from "./controls.js";

const player = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
const actions = document.getElementById("actions");

/** The second to resume at: where this person left off, unless that is
 * the very start or end. */
function resumeAt() {
  const at = Number(player.dataset.resume || 0) / 1000;
  const duration = Number(player.dataset.duration || 0) / 1000;
  return at > 5 && (!duration || at < duration - 10) ? at : 0;
}

function resume(id) {
  const posUrl = "/api/v1/videos/" + id + "/position";
  const at = resumeAt();
  // A live region that is always there: filling it is announced.
  const said = document.getElementById("resumed-text");
  const startOver = document.getElementById("start-over");
  let fading = 0;
  const quiet = (ms) => {
    clearTimeout(fading);
    fading = window.setTimeout(() => {
      if (said) said.textContent = "";
      if (startOver) startOver.hidden = true;
    }, ms);
  };
  const apply = () => {
    if (at > 0 && at < player.duration - 10) {
      player.currentTime = at;
      const m = Math.floor(at / 60);
      const s = String(Math.floor(at % 60)).padStart(2, "0");
      if (said) said.textContent = "Resumed at " + m + ":" + s;
      if (startOver) startOver.hidden = false;
      // It sits over the picture: gone after a while.
      quiet(10000);
    }
  };
  // The metadata may be in before this runs (a page opened again, from the cache).
  if (player.readyState >= 1) apply(); else player.addEventListener("loadedmetadata", apply, { once: true });
  if (startOver) {
    // A touch on it while the controls were hidden only brings them back
    // (it is over the picture, where one taps for them).
    const box = document.getElementById("player-box");
    let hiddenAtPress = false;
    startOver.addEventListener("pointerdown", (e) => {
      hiddenAtPress = e.pointerType !== "mouse" && !!box && box.classList.contains("idle");
    });
    startOver.addEventListener("click", () => {
      if (hiddenAtPress) { hiddenAtPress = false; return; }
      player.currentTime = 0;
      startOver.hidden = true;
      if (said) said.textContent = "Playing from the start.";
      quiet(3000);
    });
  }
  let lastSaved = 0;
  const save = (force) => {
    const t = player.currentTime || 0;
    if (!force && Math.abs(t - lastSaved) < 10) return;
    lastSaved = t;
    const near = player.duration && t > player.duration - 10;
    // Best effort: a lost position is not worth a message.
    const opts = { quiet: true, keepalive: true };
    if (near) api("DELETE", posUrl, undefined, opts); else api("PUT", posUrl, { seconds: t }, opts);
  };
  player.addEventListener("timeupdate", () => { if (!player.paused) save(false); });
  player.addEventListener("pause", () => { if (player.currentTime > 5) save(true); });
  player.addEventListener("ended", () => save(true));
  window.addEventListener("pagehide", () => { if (player.currentTime > 5) save(true); });
}

// No thumbnail yet: send the server a frame of what plays (it checks and
// re-encodes it). Once per page.
function captureFrame(id) {
  let sent = false;
  player.addEventListener("timeupdate", async () => {
    if (sent || player.currentTime < 1 || !player.videoWidth) return;
    sent = true;
    const blob = await frameBlob(player);
    if (blob) api("POST", "/api/v1/videos/" + id + "/thumbnail", blob, { quiet: true });
  });
}

// Seek preview: over the seek bar (the player's own, else the lower part
// of the picture, where the browser's is), the frame at that point.
function seekPreview(id) {
  const tile = player.dataset.sprite.split("x").map(Number);
  const bar = /** @type {HTMLInputElement | null} */ (document.getElementById("seek"));
  const own = () => !!bar && bar.offsetParent !== null;
  const tip = document.createElement("div");
  tip.id = "seek-preview";
  tip.hidden = true;
  tip.setAttribute("aria-hidden", "true");
  tip.style.backgroundImage = "url(/sprite/" + id + ".jpg)";
  tip.style.width = tile[0] + "px";
  tip.style.height = tile[1] + "px";
  const tipTime = document.createElement("span");
  tip.appendChild(tipTime);
  const box = player.parentElement;
  box.appendChild(tip);
  const move = (e) => {
    const d = length();
    const r = (own() ? bar : player).getBoundingClientRect();
    const frame = box.getBoundingClientRect();
    if (!d || (!own() && e.clientY < r.bottom - 60)) { tip.hidden = true; return; }
    const f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const i = Math.min(19, Math.floor(f * 20));
    tip.style.backgroundPosition = (-(i % 10) * tile[0]) + "px " + (-Math.floor(i / 10) * tile[1]) + "px";
    tip.style.left = Math.min(frame.width - tile[0], Math.max(0, e.clientX - frame.left - tile[0] / 2)) + "px";
    tip.style.top = Math.max(0, (own() ? r.top : r.bottom - 70) - frame.top - tile[1] - 8) + "px";
    tipTime.textContent = clockOf(f * d);
    tip.hidden = false;
  };
  player.addEventListener("mousemove", (e) => { if (!own()) move(e); });
  player.addEventListener("mouseleave", () => { tip.hidden = true; });
  if (bar) {
    bar.addEventListener("mousemove", move);
    bar.addEventListener("mouseleave", () => { tip.hidden = true; });
  }
}

/** `1:05` (minutes and seconds; hours as minutes, as the bar's tip shows). */
function clockOf(seconds) {
  const t = Math.floor(seconds);
  return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
}

// One view per page load, counted after a few seconds of playback.
function countView() {
  let watched = 0, last = null, counted = false;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    if (last !== null && t > last && t - last < 2) watched += t - last;
    last = t;
    if (!counted && watched >= 5) { counted = true; send("POST", "view"); }
  });
  player.addEventListener("seeking", () => { last = null; });
}

/** Whether the key `key`, pressed on `el`, belongs to it: a field one
 * types in takes every key; a slider its arrows, Home and End; a button,
 * link or menu Space and Enter. Every other key is the player's wherever
 * focus is. */
function ownsKeys(el, key) {
  if (!el || el === player || !(el instanceof Element)) return false;
  if (/** @type {HTMLElement} */ (el).isContentEditable) return true;
  if (el.closest("textarea, select")) return true;
  const input = /** @type {HTMLInputElement | null} */ (el.closest("input"));
  if (input) {
    // The seek bar's arrows are the page's (five seconds, not a
    // thousandth of the length); its page keys stay its own.
    if (input.id === "seek") return key === "PageUp" || key === "PageDown";
    if (input.type === "range") return ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"].includes(key);
    return !["checkbox", "radio", "button", "submit"].includes(input.type) || key === " " || key === "Enter";
  }
  if (el.closest("button, a[href], summary, [role=button]")) return key === " " || key === "Enter";
  return false;
}

/** Whether at least half of the player is on the screen. */
function inSight() {
  const r = player.getBoundingClientRect();
  const shown = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
  return document.fullscreenElement !== null || shown >= r.height / 2;
}

/** Whether the arrows move between the bar's controls: since ↓ took a
 * remote into the bar, until focus leaves it (a control reached by Tab
 * leaves the arrows to seeking and the volume). */
let inBar = false;

/** A remote's arrows about the control bar: from the picture while
 * paused, ↓ into the bar; there ←/→ go from control to control, ↑ back to
 * the picture (its keys the player's again), ↓ on to what is under the
 * player (`remote.js`). Whether the key was taken. */
function remote(e) {
  const controls = document.getElementById("controls");
  if (!controls || !e.key.startsWith("Arrow")) return false;
  const here = e.target instanceof Element ? e.target.closest("#controls button") : null;
  if (here && inBar) {
    if (e.key === "ArrowDown") return true;
    e.preventDefault();
    if (e.key === "ArrowUp") { /** @type {HTMLElement} */ (here).blur(); return true; }
    const all = /** @type {HTMLElement[]} */ ([...controls.querySelectorAll("button")]).filter((b) => b.checkVisibility());
    const to = all[all.indexOf(/** @type {HTMLElement} */ (here)) + (e.key === "ArrowRight" ? 1 : -1)];
    if (to) to.focus();
    return true;
  }
  const onPicture = e.target === document.body || e.target === player;
  if (onPicture && e.key === "ArrowDown" && player.paused && inSight()) {
    e.preventDefault();
    const play = document.getElementById("c-play");
    if (play) { play.focus(); inBar = true; }
    return true;
  }
  return false;
}

function keys() {
  // (Into the settings menu and back is still the bar.)
  const box = document.getElementById("player-box");
  if (box) box.addEventListener("focusout", (f) => {
    if (!box.contains(/** @type {Node | null} */ (f.relatedTarget))) inBar = false;
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || ownsKeys(e.target, e.key)) return;
    // An open panel (the shortcuts) keeps its keys.
    const open = /** @type {HTMLDialogElement | null} */ (document.querySelector("dialog[open]"));
    if (open) return;
    // With the browser's controls, the focused player toggles on Space
    // itself (on key up, which cannot be stopped): doing it here too would
    // undo it.
    if (e.target === player && e.key === " " && player.controls) return;
    if (remote(e)) return;
    const d = length();
    switch (e.key) {
      // (Enter: a remote's OK, on the picture or the page; a control's is its own.)
      case "Enter": case " ": case "k": case "K": if (player.paused) player.play().catch(() => {}); else player.pause(); break;
      case "ArrowLeft": seekTo(player.currentTime - 5); break;
      case "ArrowRight": seekTo(player.currentTime + 5); break;
      case "j": case "J": seekTo(player.currentTime - 10); break;
      case "l": case "L": seekTo(player.currentTime + 10); break;
      // The volume while the player is in sight; scrolled mostly away,
      // the arrows scroll the page.
      case "ArrowUp": if (!inSight()) return; louder(0.1); break;
      case "ArrowDown": if (!inSight()) return; louder(-0.1); break;
      case "Home": seekTo(0); break;
      case "End": if (d) seekTo(d); break;
      case "m": case "M": player.muted = !player.muted; break;
      case "c": case "C": toggleSubtitles(); break;
      case "<": faster(-1); break;
      case ">": faster(1); break;
      case "f": case "F": fullScreen(); break;
      case "i": case "I": pictureInPicture(); break;
      case "?": showShortcuts(); break;
      default:
        if (e.key >= "0" && e.key <= "9" && d) { seekTo(d * Number(e.key) / 10); break; }
        return;
    }
    e.preventDefault();
  });
}

/** A WebM or Matroska file this browser cannot open as stored (Safari,
 * iOS): the same packets as an MP4 instead, where the server can make one. */
function sourceChoice() {
  const alt = player.dataset.alternative;
  if (!alt) return;
  const codec = player.dataset.codec === "av1" ? "av01.0.05M.08" : "vp9";
  if (player.canPlayType('video/webm; codecs="' + codec + '"') !== "") return;
  player.dataset.remuxed = "1";
  player.src = alt;
}

/** Shows a message under the player. */
function say(text) {
  const note = document.getElementById("codec-note");
  if (!note) return;
  note.textContent = text;
  note.hidden = false;
}

/** Says when this browser cannot decode the video's codec (HEVC outside
 * Safari and Edge, 10-bit H.264, say): `canPlayType` on the codec, and
 * the player's error. Where the server transcodes, plays the transcode
 * instead (from where the player got to). */
function codecCheck() {
  const note = document.getElementById("codec-note");
  if (!note) return;
  if (player.dataset.mustTranscode) {
    transcode(player, say, resumeAt());
    return;
  }
  const types = {
    h264: 'video/mp4; codecs="avc1.42E01E"',
    hevc: 'video/mp4; codecs="hvc1.1.6.L93.B0"',
    av1: 'video/mp4; codecs="av01.0.05M.08"',
    vp9: 'video/webm; codecs="vp9"',
  };
  const codec = player.dataset.codec || "";
  const cannot = (from) => {
    if (transcode(player, say, from)) {
      say("This browser cannot decode " + codec.toUpperCase() + " video: it is transcoded to H.264 as it plays.");
      return;
    }
    if (player.dataset.transcoding) return;
    say("This browser cannot decode " + codec.toUpperCase() +
      " video. Safari and Edge decode more codecs; Open in VLC (Link for other players) plays everything.");
  };
  if (types[codec] && player.canPlayType(types[codec]) === "") cannot(resumeAt());
  player.addEventListener("error", () => {
    // 3: a decode error (10-bit H.264, say); 4: not supported at all.
    if (player.error && (player.error.code === 4 || player.error.code === 3) && types[codec]) {
      cannot(player.currentTime || resumeAt());
    }
  });
}

/** A remux whose sound is being remade (ffmpeg, in the background): says
 * so, asks again now and then, and switches to the stream with sound
 * where the player is when it is ready. */
async function soundWhenReady() {
  if (!player.dataset.remuxed || player.dataset.transcoding) return;
  const note = document.getElementById("codec-note");
  const url = () => new URL(player.currentSrc || player.src, location.href);
  const state = async () => {
    try {
      const res = await fetch(url(), { method: "HEAD" });
      return res.headers.get("x-vidserve-sound") || "";
    } catch (e) { return ""; }
  };
  if ((await state()) !== "preparing" || player.dataset.transcoding) return;
  note.textContent = "Browsers cannot decode this file's sound: it is being made playable, and will come on by itself.";
  note.hidden = false;
  for (let tries = 0; tries < 360; tries++) {
    await new Promise((r) => setTimeout(r, 5000));
    const now = await state();
    if (now === "preparing") continue;
    if (now === "remade") {
      const at = player.currentTime;
      const playing = !player.paused;
      const u = url();
      u.searchParams.set("sound", String(Date.now()));
      player.src = u.pathname + u.search;
      player.addEventListener("loadedmetadata", () => {
        player.currentTime = at;
        if (playing) player.play().catch(() => { /* the user can press play */ });
      }, { once: true });
      note.hidden = true;
    } else {
      note.textContent = "Browsers cannot decode this file's sound, and it could not be made playable here; Open in VLC plays it.";
    }
    return;
  }
}

/** Other screens (Chromecast, AirPlay) through the Remote Playback API,
 * where the browser has it and a screen is around. */
function otherScreens() {
  const button = document.getElementById("cast");
  if (!button || !player.remote || !player.remote.watchAvailability) return;
  player.remote.watchAvailability((available) => { button.hidden = !available; })
    .catch(() => { /* not on this device: the button stays hidden */ });
  button.addEventListener("click", () => player.remote.prompt().catch(() => { /* dismissed */ }));
}

export function init() {
  if (!player) return;
  sourceChoice();
  codecCheck();
  soundWhenReady();
  otherScreens();
  if (actions) {
    const id = actions.dataset.id;
    resume(id);
    if (player.dataset.needsThumb) captureFrame(id);
    if (player.dataset.sprite) seekPreview(id);
    countView();
  }
  keys();
}
