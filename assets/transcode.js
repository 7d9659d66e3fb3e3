// Video this browser cannot decode, transcoded by the server as it plays
// (`/transcode/{id}.mp4?t=…`, a fragmented MP4 from second t). Each
// stream goes into one Media Source at its own second, so the seek bar
// shows the whole film; a seek outside what is loaded starts a stream
// from there (the server stops the one before). Reading pauses while a
// minute is loaded ahead, so the server's ffmpeg waits too.
//
// A browser without Media Source that plays HLS itself gets the same
// transcode as a playlist of segments (`/transcode/{id}.m3u8`).
//
// A film whose remux the server has not planned yet (`data-copy`) comes
// the same way with its picture copied as it is (`copy=1`): the stream
// starts at the key frame before t and keeps the film's own times.

import { api } from "./api.js";

const AHEAD_S = 60;
/** Kept behind the playhead when the browser's buffer is full. */
const BEHIND_S = 20;
/** Streams in a row that may end early without getting further. */
const MAX_STALLS = 3;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The height to ask for: less than the video's on a small screen or a
 * saving connection, else none (the server keeps the video's own). */
function height(player) {
  const own = Number(player.getAttribute("height") || 0);
  const conn = /** @type {any} */ (navigator).connection;
  const lines = conn && conn.saveData ? 480
    : Math.min(screen.width, screen.height) * (window.devicePixelRatio || 1);
  const fit = [360, 480, 720, 1080].find((h) => h >= lines);
  return fit && own && fit < own ? fit : 0;
}

/** The server's reason, from its JSON error. */
async function reason(res) {
  try {
    const body = await res.json();
    return body.error.message;
  } catch (e) { return "the server answered " + res.status; }
}

/**
 * Plays `player` from its transcode, from second `from`; `say` shows a
 * message. False when the page offers no transcode or one runs already.
 * @param {HTMLVideoElement} player
 * @param {(text: string) => void} say
 * @param {number} from
 */
export function transcode(player, say, from) {
  const url = player.dataset.transcode;
  if (!url || player.dataset.transcoding) return false;
  player.dataset.transcoding = "1";
  const duration = Number(player.dataset.duration || 0) / 1000;
  const win = /** @type {any} */ (window);
  const Source = win.ManagedMediaSource || win.MediaSource;
  const sound = player.dataset.sound ? ', mp4a.40.2"' : '"';
  const copied = COPIED[player.dataset.codec || ""];
  // A copy this browser cannot take into a Media Source is encoded instead.
  const copy = Boolean(player.dataset.copy && copied && (!Source || Source.isTypeSupported(copied + sound)));
  if (!copy) delete player.dataset.copy;
  // The size the player's Quality menu chose, else one for this screen.
  const lines = () => Number(player.dataset.height || 0) || height(player);
  const link = (t) => url + "?t=" + t.toFixed(3) + (copy ? "&copy=1" : lines() ? "&height=" + lines() : "") +
    (player.dataset.audio ? "&audio=" + player.dataset.audio : "");
  const type = (copy ? copied : 'video/mp4; codecs="avc1.640028') + sound;
  player.removeAttribute("src");
  if (!Source || !Source.isTypeSupported(type) || !duration) {
    // No Media Source: HLS where the browser plays it itself (an iPhone
    // before iOS 17.1), so it seeks anywhere; else one stream from the
    // start (seeks stay within it).
    if (!copy && duration && player.canPlayType("application/vnd.apple.mpegurl")) {
      playlist(player, url.replace(/\.mp4$/, ".m3u8"), lines, from);
      return true;
    }
    player.src = link(0);
    return true;
  }
  const source = new Source();
  // Safari's managed source plays only with AirPlay off.
  if (Source === win.ManagedMediaSource) player.disableRemotePlayback = true;
  player.src = URL.createObjectURL(source);
  // A copy's times are the film's own; a transcode's start at its second.
  const offset = (t) => (copy ? 0 : t);
  source.addEventListener("sourceopen", () => feed(player, source, type, duration, link, offset, say, from),
    { once: true });
  return true;
}

/** Plays the transcode's HLS `url` from second `from`; another size or
 * audio track loads it again, from where it was. The playlist is asked
 * for by a signed link (its segments inherit it), as a phone's own player
 * may not send the page's cookie. */
function playlist(player, url, lines, from) {
  const id = (url.match(/\/transcode\/([0-9a-f]+)\.m3u8$/) || [])[1];
  const signing = id ? signedQuery(id) : Promise.resolve("");
  const load = async (at, playing) => {
    const asked = [lines() ? "height=" + lines() : "", player.dataset.audio ? "audio=" + player.dataset.audio : "",
      await signing];
    const query = asked.filter(Boolean).join("&");
    player.src = url + (query ? "?" + query : "");
    if (at > 0) {
      player.addEventListener("loadedmetadata", () => {
        player.currentTime = at;
        if (playing) player.play().catch(() => { /* the user can press play */ });
      }, { once: true });
    }
  };
  const again = () => load(player.currentTime, !player.paused);
  player.addEventListener("vidserve-audio", again);
  player.addEventListener("vidserve-quality", again);
  load(from, false);
}

/** The query of a signed link to video `id` (`expires=…&sig=…`), or "". */
async function signedQuery(id) {
  const d = await api("GET", "/api/v1/videos/" + id + "/link", undefined, { quiet: true });
  return d ? new URL(d.url, location.href).search.slice(1) : "";
}

/** The Media Source types of pictures copied as they are. */
const COPIED = {
  h264: 'video/mp4; codecs="avc1.640028',
  hevc: 'video/mp4; codecs="hvc1.1.6.L93.B0',
  av1: 'video/mp4; codecs="av01.0.08M.08',
};

function feed(player, source, type, duration, link, offset, say, from) {
  source.duration = duration;
  const buffer = source.addSourceBuffer(type);
  buffer.mode = "segments";
  /** @type {{ from: number, reached: number, ctrl: AbortController } | null} */
  let stream = null;
  let stalls = 0;
  const idle = () => new Promise((r) => {
    if (buffer.updating) buffer.addEventListener("updateend", () => r(undefined), { once: true }); else r(undefined);
  });
  /** The loaded range holding second t, as [start, end], or null. */
  const rangeAt = (t) => {
    const b = buffer.buffered;
    for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.5 && t < b.end(i)) return [b.start(i), b.end(i)];
    return null;
  };

  async function append(bytes) {
    for (let tries = 0; ; tries++) {
      await idle();
      try {
        buffer.appendBuffer(bytes);
        await idle();
        return;
      } catch (e) {
        if (e.name !== "QuotaExceededError" || tries > 30) throw e;
        // Full: drop what is well behind, or wait for playback to catch up.
        const cut = player.currentTime - BEHIND_S;
        if (cut > 0 && buffer.buffered.length && buffer.buffered.start(0) < cut) {
          buffer.remove(0, cut);
        } else {
          await sleep(1000);
        }
      }
    }
  }

  // A stream's first picture may come a frame after its second: step over.
  const nudge = () => {
    const t = player.currentTime;
    if (rangeAt(t)) return;
    const b = buffer.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) > t && b.start(i) - t < 1) { player.currentTime = b.start(i) + 0.01; return; }
    }
  };

  async function open(t) {
    if (stream) stream.ctrl.abort();
    const mine = { from: t, reached: t, ctrl: new AbortController() };
    stream = mine;
    await idle();
    if (stream !== mine || source.readyState === "closed") return;
    // Ended (a seek after the end): setting the offset opens it again.
    if (source.readyState === "ended") buffer.timestampOffset = offset(t);
    buffer.abort();
    buffer.timestampOffset = offset(t);
    // Whether the server ended the stream (ffmpeg got to the end), and
    // the longest reading paused (the server stops a stream unread for a
    // minute: then it did not get to the end).
    let finished = false;
    let longestWait = 0;
    try {
      const res = await fetch(link(t), { signal: mine.ctrl.signal, headers: { Accept: "application/json" } });
      if (!res.ok) {
        say("This video cannot be transcoded now: " + (await reason(res)));
        return;
      }
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) finished = true;
        if (done || stream !== mine) break;
        await append(value);
        if (stream !== mine) return;
        const r = rangeAt(Math.max(mine.from, mine.reached - 0.5));
        if (r) mine.reached = r[1];
        nudge();
        const waited = Date.now();
        while (stream === mine && mine.reached - player.currentTime > AHEAD_S) await sleep(1000);
        longestWait = Math.max(longestWait, Date.now() - waited);
      }
    } catch (e) {
      if (stream !== mine) return;
      if (e.name !== "AbortError") await sleep(2000);
    }
    if (stream !== mine) return;
    if (mine.reached >= duration - 1 || (finished && longestWait < 50000)) {
      await idle();
      if (source.readyState === "open") source.endOfStream();
      return;
    }
    // Stopped early (unread for a minute, as while paused; or the
    // connection dropped): on from where it got to
    // once playback needs it, unless it got nowhere a few times in a row.
    stalls = mine.reached > mine.from + 1 ? 0 : stalls + 1;
    if (stalls > MAX_STALLS) { say("The transcode keeps stopping; Open in VLC plays the file itself."); return; }
    while (stream === mine && mine.reached - player.currentTime > AHEAD_S / 2) await sleep(1000);
    if (stream === mine) open(mine.reached);
  }

  player.addEventListener("seeking", () => {
    const t = player.currentTime;
    // The stream under way gets there soon.
    if (stream && t >= stream.from - 0.5 && t <= stream.reached + 3) return;
    const r = rangeAt(t);
    if (r && r[1] >= duration - 1) return;
    open(r ? r[1] : t);
  });
  // Another audio track, or another size: everything loaded has the old one.
  const again = async () => {
    const at = player.currentTime;
    if (stream) stream.ctrl.abort();
    stream = null;
    await idle();
    if (source.readyState === "closed") return;
    // After the end of the stream the source is "ended": removing reopens it.
    if (source.readyState === "open") buffer.abort();
    buffer.remove(0, duration);
    await idle();
    open(at);
  };
  player.addEventListener("vidserve-audio", again);
  player.addEventListener("vidserve-quality", again);
  if (from > 0) {
    player.addEventListener("loadedmetadata", () => { player.currentTime = from; }, { once: true });
  }
  open(from);
}
