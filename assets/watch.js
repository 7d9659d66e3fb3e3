// The watch page's controls: stars, heart and views; tags; the title.
import { api, notify } from "./api.js";
import { on, onResync } from "./live.js";

const actions = document.getElementById("actions");
const tagBox = document.getElementById("tags");

export function showUser(d) {
  if (!actions || !d) return;
  // Another person's change carries only the shared fields.
  if ("rating" in d) showOwn(d);
  const views = document.getElementById("views");
  if (views) views.textContent = d.views + (d.views === 1 ? " view" : " views");
}

function showOwn(d) {
  /** @type {NodeListOf<HTMLElement>} */ (actions.querySelectorAll(".star")).forEach((b) => {
    b.setAttribute("aria-pressed", String((d.rating || 0) >= Number(b.dataset.rating)));
  });
  const clear = /** @type {HTMLElement | null} */ (actions.querySelector(".clear"));
  if (clear) clear.hidden = !d.rating;
  const fav = document.getElementById("favorite");
  if (fav) fav.setAttribute("aria-pressed", String(!!d.favorite));
}

/** A change to this video's user data (`what`: rating, favorite, view). */
export async function send(method, what, body) {
  showUser(await api(method, "/api/v1/videos/" + actions.dataset.id + "/" + what, body));
}

function showTags(d) {
  if (!tagBox || !d || !d.tags) return;
  const list = document.getElementById("tag-list");
  // Keep keyboard focus in the list when a focused remove button goes.
  const hadFocus = list.contains(document.activeElement);
  list.textContent = "";
  d.tags.forEach((t) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = "/tag/" + encodeURIComponent(t);
    a.textContent = "#" + t;
    const x = document.createElement("button");
    x.type = "button"; x.className = "untag"; x.dataset.tag = t; x.textContent = "×";
    x.setAttribute("aria-label", "Remove tag " + t);
    li.appendChild(a);
    if (tagBox.dataset.edits === "1") li.appendChild(x);
    list.appendChild(li);
  });
  const first = /** @type {HTMLElement | null} */ (list.querySelector("button.untag"));
  const back = first || document.getElementById("tag-input");
  if (hadFocus && back) back.focus();
}

function tags() {
  const base = "/api/v1/videos/" + tagBox.dataset.id + "/tags";
  const form = document.getElementById("tag-form");
  if (form) form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = /** @type {HTMLInputElement} */ (document.getElementById("tag-input"));
    const tag = input.value.trim();
    if (!tag) return;
    const d = await api("POST", base, { tag });
    if (d) { showTags(d); input.value = ""; }
  });
  tagBox.addEventListener("click", async (e) => {
    const t = /** @type {Element} */ (e.target);
    const b = /** @type {HTMLButtonElement | null} */ (t.closest("button.untag"));
    if (b) showTags(await api("DELETE", base + "/" + encodeURIComponent(b.dataset.tag)));
  });
}

// Rename: the file keeps its name, the library shows the new title.
function title(form) {
  const save = async (value) => {
    const d = await api("PATCH", "/api/v1/videos/" + form.dataset.id, { title: value });
    if (!d) return;
    const shown = d.title || document.getElementById("title-reset").dataset.fileTitle;
    document.getElementById("title").textContent = shown;
    /** @type {HTMLInputElement} */ (document.getElementById("title-input")).value = shown;
    document.title = shown + " · vidserve";
    form.closest("details").open = false;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save(/** @type {HTMLInputElement} */ (document.getElementById("title-input")).value);
  });
  document.getElementById("title-reset").addEventListener("click", () => save(null));
}

// A signed link other players (VLC, a TV) can open without signing in.
function share(box) {
  box.classList.remove("waiting");
  document.getElementById("share-link").addEventListener("click", async () => {
    const d = await api("GET", "/api/v1/videos/" + box.dataset.id + "/link");
    if (!d) return;
    const input = /** @type {HTMLInputElement} */ (document.getElementById("share-url"));
    input.value = d.url;
    /** @type {HTMLAnchorElement} */ (document.getElementById("share-vlc")).href = "vlc://" + d.url;
    document.getElementById("share-out").hidden = false;
    input.select();
  });
  document.getElementById("share-copy").addEventListener("click", async () => {
    const input = /** @type {HTMLInputElement} */ (document.getElementById("share-url"));
    try { await navigator.clipboard.writeText(input.value); notify("Link copied."); } catch (e) { input.select(); }
  });
}

export function init() {
  const box = document.getElementById("share");
  if (box) share(box);
  if (actions) {
    actions.addEventListener("click", (e) => {
      const b = /** @type {Element} */ (e.target).closest("button");
      if (!b) return;
      if (b.id === "favorite") {
        send(b.getAttribute("aria-pressed") === "true" ? "DELETE" : "PUT", "favorite");
      } else if (b.dataset.rating) {
        const r = Number(b.dataset.rating);
        if (r === 0) send("DELETE", "rating"); else send("PUT", "rating", { rating: r });
      }
    });
  }
  if (tagBox) tags();
  const form = document.getElementById("title-form");
  if (form) title(form);
  on("user", (d) => {
    if (actions && actions.dataset.id === d.id) showUser(d);
    if (tagBox && tagBox.dataset.id === d.id) showTags(d);
  });
  if (actions) {
    onResync(async () => {
      const d = await api("GET", "/api/v1/videos/" + actions.dataset.id, undefined, { quiet: true });
      if (d) { showUser(d); showTags(d); }
    });
  }
}
