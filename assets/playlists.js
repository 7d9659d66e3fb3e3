// Playlists: make one (Playlists page), add videos to one (the watch
// page, or a selection in a gallery), and edit one (rename, delete, move
// and take out videos, under its gallery).
import { api } from "./api.js";

const NEW = "new";

/** Fills `select` with the person's playlists and a "New playlist…" choice. */
async function fill(select) {
  const d = await api("GET", "/api/v1/playlists", undefined, { quiet: true });
  select.textContent = "";
  for (const p of (d && d.playlists) || []) {
    const o = document.createElement("option");
    o.value = String(p.id);
    o.textContent = p.name + " (" + p.count + ")";
    select.appendChild(o);
  }
  const o = document.createElement("option");
  o.value = NEW;
  o.textContent = "New playlist…";
  select.appendChild(o);
  return !!d;
}

/** Shows the field for a new playlist's name while "New playlist…" is
 * chosen in `select`. */
function naming(select, field) {
  const sync = () => { field.hidden = select.value !== NEW; };
  select.addEventListener("change", () => { sync(); if (!field.hidden) field.focus(); });
  return sync;
}

/** Adds `ids` to the playlist chosen in `select` (making it first, named
 * in `field`, when asked); says what happened in `status`. */
async function addTo(select, field, ids, status) {
  if (!ids.length) { status.textContent = "Select some videos first."; return; }
  let d;
  if (select.value === NEW) {
    const name = field.value.trim();
    if (!name) { field.hidden = false; field.focus(); status.textContent = "Name the new playlist first."; return; }
    d = await api("POST", "/api/v1/playlists", { name, ids });
    if (d) field.value = "";
  } else {
    d = await api("POST", "/api/v1/playlists/" + select.value + "/videos", { ids });
  }
  if (!d) return;
  status.textContent = "In “" + d.name + "” (" + d.count + (d.count === 1 ? " video)." : " videos).");
  await fill(select);
  select.value = String(d.id);
  field.hidden = true;
}

function watchPage() {
  const box = document.getElementById("playlist-add");
  if (!box) return;
  const select = document.getElementById("playlist-add-choice");
  const field = /** @type {HTMLInputElement} */ (document.getElementById("playlist-add-name"));
  const sync = naming(select, field);
  fill(select).then((ok) => { box.classList.remove("waiting"); box.hidden = !ok; sync(); });
  document.getElementById("playlist-add-button").addEventListener("click", () =>
    addTo(select, field, [box.dataset.id], document.getElementById("playlist-add-status")));
}

function batchBar() {
  const select = document.getElementById("batch-playlist");
  if (!select) return;
  const field = /** @type {HTMLInputElement} */ (document.getElementById("batch-playlist-name"));
  const sync = naming(select, field);
  fill(select).then(sync);
  document.getElementById("batch-playlist-add").addEventListener("click", () => {
    const picks = /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll("input.pick"));
    const ids = Array.from(picks).filter((p) => p.checked).map((p) => p.value);
    addTo(select, field, ids, document.getElementById("batch-status"));
  });
}

function makeForm() {
  const form = document.getElementById("playlist-new");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = /** @type {HTMLInputElement} */ (document.getElementById("playlist-name")).value.trim();
    if (!name) return;
    const d = await api("POST", "/api/v1/playlists", { name });
    if (d) location.href = d.url;
  });
}

function editor() {
  const box = document.getElementById("playlist-editor");
  if (!box) return;
  const url = "/api/v1/playlists/" + box.dataset.n;
  const list = document.getElementById("playlist-items");
  const status = document.getElementById("playlist-edit-status");
  const buttons = () => {
    const items = Array.from(list.children);
    items.forEach((li, i) => {
      /** @type {HTMLButtonElement} */ (li.querySelector(".up")).disabled = i === 0;
      /** @type {HTMLButtonElement} */ (li.querySelector(".down")).disabled = i === items.length - 1;
    });
  };
  const save = async (said) => {
    const ids = Array.from(list.children).map((li) => /** @type {HTMLElement} */ (li).dataset.id);
    // The cards above follow: in the new order, without what was taken out.
    const grid = document.getElementById("gallery-grid");
    if (grid) {
      const cards = new Map();
      Array.from(grid.children).forEach((li) => {
        const card = /** @type {HTMLElement | null} */ (li.querySelector(".card"));
        if (card) cards.set(card.dataset.id, li);
      });
      cards.forEach((li, id) => { if (!ids.includes(id)) li.remove(); });
      ids.forEach((id) => { const li = cards.get(id); if (li) grid.appendChild(li); });
    }
    const d = await api("PATCH", url, { ids });
    if (!d) { location.reload(); return; }
    status.textContent = said;
  };
  list.addEventListener("click", (e) => {
    const b = /** @type {Element} */ (e.target).closest("button");
    if (!b) return;
    const li = b.closest("li");
    const title = li.querySelector("a").textContent;
    if (b.classList.contains("up") && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
      buttons();
      b.disabled ? /** @type {HTMLElement} */ (li.querySelector(".down")).focus() : b.focus();
      save("Moved up: " + title);
    } else if (b.classList.contains("down") && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
      buttons();
      b.disabled ? /** @type {HTMLElement} */ (li.querySelector(".up")).focus() : b.focus();
      save("Moved down: " + title);
    } else if (b.classList.contains("out")) {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      buttons();
      if (next) /** @type {HTMLElement} */ (next.querySelector(".out")).focus();
      save("Taken out: " + title);
    }
  });
  document.getElementById("playlist-rename").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = /** @type {HTMLInputElement} */ (document.getElementById("playlist-rename-input")).value.trim();
    const d = await api("PATCH", url, { name });
    if (d) { document.querySelector("h1").textContent = d.name; status.textContent = "Renamed."; }
  });
  document.getElementById("playlist-delete").addEventListener("click", async () => {
    if (!window.confirm("Delete this playlist? Its videos stay in the library.")) return;
    if (await api("DELETE", url)) location.href = "/playlists";
  });
}

export function init() {
  watchPage();
  batchBar();
  makeForm();
  editor();
}
