// The chat panel: ask about the library from any page. The conversation is
// kept for the tab (sessionStorage) and sent whole with each question; the
// answer streams in as server-sent events over a POST. The model's text is
// only ever put in as text: links to watch pages become <a> elements built
// here, and the videos they name are shown as cards below the answer.

const KEY = "vidserve-chat";
const WATCH = /\[([^\]\n]{1,200})\]\((\/watch\/[0-9a-f]{16})\)|(\/watch\/[0-9a-f]{16})/g;

let panel, log, form, input, send, stop, status, opener;
let convo = [];
let controller = null;

function load() {
  try { convo = JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { convo = []; }
  if (!Array.isArray(convo)) convo = [];
}

function save() {
  try { sessionStorage.setItem(KEY, JSON.stringify(convo.slice(-40))); } catch (e) { /* storage may be off */ }
}

/** Text into `el`, with watch links as links; returns the ids linked. */
function renderText(el, text) {
  el.textContent = "";
  const ids = [];
  let last = 0;
  let m;
  WATCH.lastIndex = 0;
  while ((m = WATCH.exec(text))) {
    el.append(document.createTextNode(text.slice(last, m.index)));
    const a = document.createElement("a");
    a.href = m[2] || m[3];
    a.textContent = m[1] || m[3];
    el.append(a);
    ids.push(a.getAttribute("href").slice(7));
    last = WATCH.lastIndex;
  }
  el.append(document.createTextNode(text.slice(last)));
  return ids;
}

function minutes(ms) {
  if (!ms) return "";
  const s = Math.round(ms / 1000);
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

/** Cards for the videos an answer links to (at most six). */
async function showCards(li, ids) {
  const unique = [...new Set(ids)].slice(0, 6);
  if (!unique.length) return;
  const list = document.createElement("ul");
  list.className = "chat-cards";
  li.append(list);
  for (const id of unique) {
    let v;
    try {
      const res = await fetch("/api/v1/videos/" + id, { headers: { Accept: "application/json" } });
      if (!res.ok) continue;
      v = await res.json();
    } catch (e) { continue; }
    const item = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/watch/" + v.id;
    const img = document.createElement("img");
    img.src = "/thumb/" + v.id + "/320";
    img.alt = "";
    img.loading = "lazy";
    img.addEventListener("error", () => img.remove());
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = v.title;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = minutes(v.duration_ms);
    a.append(img, title, meta);
    item.append(a);
    list.append(item);
  }
}

function bubble(role, text) {
  const li = document.createElement("li");
  li.className = "msg " + role;
  const who = document.createElement("span");
  who.className = "skip";
  who.textContent = role === "user" ? "You: " : "Answer: ";
  const body = document.createElement("div");
  body.className = "body";
  li.append(who, body);
  log.append(li);
  const ids = renderText(body, text || "");
  return { li, body, ids };
}

function showAll() {
  log.textContent = "";
  convo.forEach((m) => {
    const b = bubble(m.role, m.content);
    if (m.role === "assistant") showCards(b.li, b.ids);
  });
  log.scrollTop = log.scrollHeight;
}

function busy(on) {
  send.disabled = on;
  stop.hidden = !on;
  if (!on) status.textContent = "";
}

/** The end of the conversation that fits one request (the server takes
 * at most 40 messages and 64 KiB). */
function recent() {
  const out = [];
  let size = 0;
  for (let i = convo.length - 1; i >= 0 && out.length < 40; i--) {
    size += JSON.stringify(convo[i]).length + 1;
    if (size > 48000 && out.length) break;
    out.unshift(convo[i]);
  }
  while (out.length > 1 && out[0].role !== "user") out.shift();
  return out;
}

async function ask(question) {
  convo.push({ role: "user", content: question });
  save();
  bubble("user", question);
  const answer = bubble("assistant", "");
  let text = "";
  let failed = null;
  controller = new AbortController();
  busy(true);
  status.textContent = "Thinking…";
  try {
    const res = await fetch("/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ messages: recent() }),
      signal: controller.signal,
    });
    if (!res.ok) {
      let why = res.statusText || "error " + res.status;
      try { why = (await res.json()).error.message || why; } catch (e) { /* not JSON */ }
      throw new Error(why);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let end;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = "message";
        let data = "";
        frame.split("\n").forEach((line) => {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        });
        let d = {};
        try { d = data ? JSON.parse(data) : {}; } catch (e) { continue; }
        if (event === "message" && typeof d.text === "string") {
          text += d.text;
          answer.ids = renderText(answer.body, text);
          status.textContent = "";
          log.scrollTop = log.scrollHeight;
        } else if (event === "tool") {
          status.textContent = "Looking in the library…";
        } else if (event === "error") {
          failed = d.message || "the answer failed";
        }
      }
    }
  } catch (e) {
    failed = e.name === "AbortError" ? "Stopped." : e.message;
  }
  controller = null;
  busy(false);
  if (failed) {
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = failed === "Stopped." ? failed : "Not answered: " + plain(failed);
    // In place of an answer that never came, not under an empty bubble.
    if (!text) answer.body.remove();
    answer.li.append(p);
  }
  if (text) {
    convo.push({ role: "assistant", content: text });
  } else {
    // No answer: take the question back, so the conversation stays whole.
    convo.pop();
  }
  save();
  showCards(answer.li, answer.ids);
}

/** While the panel is open the rest of the page is inert: Tab stays in
 * the panel, and nothing behind it can be reached or read. */
function background(inert) {
  for (const el of document.body.children) {
    if (el !== panel && el instanceof HTMLElement) el.inert = inert;
  }
}

function open() {
  panel.hidden = false;
  opener.setAttribute("aria-expanded", "true");
  background(true);
  showAll();
  input.focus();
}

function close() {
  panel.hidden = true;
  opener.setAttribute("aria-expanded", "false");
  background(false);
  opener.focus();
}

/** What to tell someone whose question got no answer: the service's
 * words, except for a connection that failed (a system error means
 * nothing to them; the server's log has it). */
function plain(why) {
  if (/os error|connection refused|cannot connect|failed to fetch|network/i.test(why)) {
    return "The assistant cannot be reached right now. Try again in a moment.";
  }
  return why;
}

export function init() {
  panel = document.getElementById("chat-panel");
  opener = document.getElementById("chat-open");
  if (!panel || !opener || !window.fetch || !window.TextDecoder) return;
  log = document.getElementById("chat-log");
  form = document.getElementById("chat-form");
  input = document.getElementById("chat-input");
  send = document.getElementById("chat-send");
  stop = document.getElementById("chat-stop");
  status = document.getElementById("chat-status");
  load();
  opener.hidden = false;
  opener.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.getElementById("chat-close").addEventListener("click", close);
  document.getElementById("chat-clear").addEventListener("click", () => {
    if (controller) controller.abort();
    convo = [];
    save();
    showAll();
    input.focus();
  });
  stop.addEventListener("click", () => { if (controller) controller.abort(); });
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); close(); }
    if (e.key !== "Tab") return;
    // Round from the last control to the first, and back with Shift.
    const controls = /** @type {HTMLElement[]} */ ([...panel.querySelectorAll("a[href], button, textarea, input, select")])
      .filter((el) => !(/** @type {HTMLButtonElement} */ (el).disabled) && el.offsetParent !== null);
    if (!controls.length) return;
    const first = controls[0];
    const last = controls[controls.length - 1];
    if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    else if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
  });
  input.addEventListener("keydown", (e) => {
    // Enter sends; Shift+Enter starts a new line.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q || controller) return;
    input.value = "";
    ask(q);
  });
}
