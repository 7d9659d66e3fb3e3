// Play on a TV of the house: the TVs (DLNA renderers) the server finds on
// the network are offered beside the player; the server sends the chosen
// one a link of this video and controls it, and this page shows what it
// plays (every second) with play/pause, a position slider and stop. On
// stop the player here takes over where the TV was.

import { api, notify } from "./api.js";

const STATES = {
  PLAYING: "Playing",
  PAUSED_PLAYBACK: "Paused",
  STOPPED: "Stopped",
  TRANSITIONING: "Starting",
  NO_MEDIA_PRESENT: "Stopped",
};

/** `m:ss` or `h:mm:ss` of milliseconds. */
function clock(ms) {
  const s = Math.floor((ms || 0) / 1000);
  const two = (n) => String(n).padStart(2, "0");
  return s >= 3600 ? Math.floor(s / 3600) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60)
    : Math.floor(s / 60) + ":" + two(s % 60);
}

export function init() {
  const box = document.getElementById("tv");
  const player = /** @type {HTMLVideoElement | null} */ (document.getElementById("player"));
  // Offered only where the server looks for TVs (`--dlna`) for this visitor.
  if (!box || !player || !box.dataset.on) return;
  const video = box.dataset.id;
  const choice = /** @type {HTMLSelectElement} */ (document.getElementById("tv-choice"));
  const send = document.getElementById("tv-send");
  const status = document.getElementById("tv-status");
  const controls = document.getElementById("tv-controls");
  const pause = document.getElementById("tv-pause");
  const seek = /** @type {HTMLInputElement} */ (document.getElementById("tv-seek"));
  const time = document.getElementById("tv-time");
  const stop = document.getElementById("tv-stop");
  /** The TV this page controls, and what it last said. */
  let tv = null;
  let state = "";
  let following = null;
  let dragging = false;

  const url = (id, action) => "/api/v1/renderers/" + encodeURIComponent(id) + (action ? "/" + action : "");

  function show(d) {
    const c = d && d.casting;
    if (!c || c.video !== video) {
      controls.hidden = true;
      status.textContent = c ? d.name + " plays another video." : "";
      if (following) { clearInterval(following); following = null; }
      return;
    }
    state = c.state;
    controls.hidden = c.state === "STOPPED";
    status.textContent = (STATES[c.state] || c.state) + " on " + d.name + (c.state === "STOPPED" ? "." : "");
    pause.textContent = c.state === "PAUSED_PLAYBACK" ? "Play" : "Pause";
    if (!dragging) {
      seek.max = String(Math.round((c.duration_ms || 0) / 1000));
      seek.value = String(Math.round(c.position_ms / 1000));
    }
    time.textContent = clock(c.position_ms) + (c.duration_ms ? " / " + clock(c.duration_ms) : "");
    seek.setAttribute("aria-valuetext", time.textContent);
    if (c.state === "STOPPED") {
      if (following) { clearInterval(following); following = null; }
      player.currentTime = c.position_ms / 1000;
    }
  }

  function follow() {
    if (following) clearInterval(following);
    following = setInterval(async () => {
      if (!tv) return;
      show(await api("GET", url(tv), undefined, { quiet: true }));
    }, 1000);
  }

  async function find() {
    const d = await api("GET", "/api/v1/renderers", undefined, { quiet: true });
    if (!d) return;
    const kept = choice.value;
    choice.replaceChildren(...d.renderers.map((r) => {
      const o = document.createElement("option");
      o.value = r.id;
      o.textContent = r.name;
      return o;
    }));
    if (d.renderers.some((r) => r.id === kept)) choice.value = kept;
    box.hidden = d.renderers.length === 0 && !tv;
    // A TV already playing this video (the page was reloaded) is taken up.
    const playing = d.renderers.find((r) => r.casting && r.casting.video === video && r.casting.state !== "STOPPED");
    if (playing && !tv) {
      tv = playing.id;
      choice.value = tv;
      show(playing);
      follow();
    }
  }

  send.addEventListener("click", async () => {
    if (!choice.value) return;
    tv = choice.value;
    player.pause();
    status.textContent = "Sending to the TV…";
    const d = await api("POST", url(tv, "play"), { video, position_ms: Math.round(player.currentTime * 1000) });
    if (!d) { status.textContent = ""; return; }
    show(d);
    follow();
  });
  pause.addEventListener("click", async () => {
    if (!tv) return;
    show(await api("POST", url(tv, state === "PAUSED_PLAYBACK" ? "resume" : "pause")));
  });
  seek.addEventListener("input", () => { dragging = true; time.textContent = clock(Number(seek.value) * 1000); });
  seek.addEventListener("change", async () => {
    dragging = false;
    if (tv) show(await api("POST", url(tv, "seek"), { position_ms: Number(seek.value) * 1000 }));
  });
  stop.addEventListener("click", async () => {
    if (!tv) return;
    const d = await api("POST", url(tv, "stop"));
    if (!d) return;
    show(d);
    tv = null;
    notify("Stopped on the TV; press play to go on here.");
  });

  find();
  // Answers to the search the first request set off come within seconds.
  setTimeout(find, 3000);
  setInterval(find, 30000);
}
