// The entry module of every page: small progressive enhancements, then each
// feature module sets itself up where its elements exist.
import * as live from "./live.js";
import * as cards from "./cards.js";
import * as select from "./select.js";
import * as watch from "./watch.js";
import * as player from "./player.js";
import * as controls from "./controls.js";
import * as tracks from "./tracks.js";
import * as upnext from "./upnext.js";
import * as playlists from "./playlists.js";
import * as admin from "./admin.js";
import * as chat from "./chat.js";
import * as frames from "./frames.js";
import * as remote from "./remote.js";
import * as offline from "./offline.js";
import * as tv from "./tv.js";

const root = document.documentElement;

function systemTheme() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
}

const toggle = document.getElementById("theme-toggle");
if (toggle) {
  toggle.classList.remove("waiting");
  toggle.addEventListener("click", () => {
    const next = (root.dataset.theme || systemTheme()) === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    try { localStorage.setItem("vidserve-theme", next); } catch (e) { /* storage may be disabled */ }
  });
}

const sortForm = /** @type {HTMLFormElement | null} */ (document.getElementById("sort-form"));
if (sortForm) {
  const go = /** @type {HTMLButtonElement | null} */ (sortForm.querySelector("button[type=submit]"));
  if (go) go.hidden = true;
  // A menu's choice applies at once; a year typed in the box (while the
  // library's years are still being counted) once it is a valid one. A
  // choice made with arrow keys on a closed menu (each arrow a change)
  // applies on Enter or when focus leaves the form.
  let keyed = false;
  let waiting = false;
  /** @param {EventTarget | null} [from] the menu the keys chose with: it has focus on the new page */
  const apply = (from) => {
    if (!sortForm.reportValidity()) return;
    if (from instanceof HTMLElement && from.id) {
      try { sessionStorage.setItem("vidserve-refocus", from.id); } catch (e) { /* storage may be disabled */ }
    }
    sortForm.submit();
  };
  try {
    const back = sessionStorage.getItem("vidserve-refocus");
    sessionStorage.removeItem("vidserve-refocus");
    const el = back && document.getElementById(back);
    if (el && sortForm.contains(el)) el.focus();
  } catch (e) { /* storage may be disabled */ }
  /** @type {NodeListOf<HTMLElement>} */ (sortForm.querySelectorAll("select, input[type=number]")).forEach((s) => {
    s.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && waiting) { e.preventDefault(); apply(e.target); return; }
      keyed = e.key.startsWith("Arrow") || e.key === "Home" || e.key === "End" || e.key === "PageUp" || e.key === "PageDown";
    });
    s.addEventListener("pointerdown", () => { keyed = false; });
    s.addEventListener("change", () => {
      // Another sort starts in its own direction (titles A to Z, the rest
      // highest or newest first).
      const order = /** @type {HTMLSelectElement | null} */ (document.getElementById("order"));
      if (s.id === "sort" && order && s instanceof HTMLSelectElement) {
        const first = s.selectedOptions[0] && s.selectedOptions[0].dataset.order;
        if (first) order.value = first;
      }
      if (keyed) waiting = true; else apply();
    });
  });
  sortForm.addEventListener("focusout", (e) => {
    if (waiting && !sortForm.contains(/** @type {Node | null} */ (e.relatedTarget))) apply(e.target);
  });
}

// The sticky header's height (one row, or two on a tablet), for what
// stops below it: scrolled-to focus and the select bar.
const header = /** @type {HTMLElement | null} */ (document.querySelector("header.top"));
if (header && "ResizeObserver" in window) {
  new ResizeObserver(() => {
    const sticky = getComputedStyle(header).position === "sticky";
    root.style.setProperty("--header-h", (sticky ? header.getBoundingClientRect().height : 0) + "px");
  }).observe(header);
}

// The header's menus (More, the account's) close on a click elsewhere.
if (header) {
  document.addEventListener("click", (e) => {
    header.querySelectorAll("details[open]").forEach((d) => {
      if (!d.contains(/** @type {Node} */ (e.target))) /** @type {HTMLDetailsElement} */ (d).open = false;
    });
  });
}

// Escape inside an open disclosure (a header menu; Rename, Manage, the
// playlist editor) closes it, back to its summary; a header menu's is
// the only answer to that Escape.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || e.defaultPrevented) return;
  const open = document.activeElement && document.activeElement.closest("header details[open], main details[open]");
  if (!open) return;
  /** @type {HTMLDetailsElement} */ (open).open = false;
  /** @type {HTMLElement} */ (open.querySelector("summary")).focus();
  e.preventDefault();
  if (open.closest("header")) e.stopImmediatePropagation();
});

// A row of cards scrolled sideways: Tab brings the focused card in whole.
document.querySelectorAll("ul.grid.row").forEach((row) => row.addEventListener("focusin", (e) => {
  /** @type {Element} */ (e.target).closest("li").scrollIntoView({ block: "nearest", inline: "nearest" });
}));

live.on("library", () => {
  const banner = document.getElementById("live-banner");
  if (banner && document.querySelector("ul.grid")) banner.hidden = false;
});
live.on("resync", () => location.reload());

// Installable, and the shell offline, where the browser allows a service
// worker (localhost, or https).
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch(() => { /* not here */ });
  document.querySelectorAll("form.sign-out").forEach((form) => form.addEventListener("submit", () => {
    if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("forget");
  }));
}

cards.init();
select.init();
watch.init();
player.init();
tracks.init();
controls.init();
upnext.init();
playlists.init();
admin.init();
chat.init();
frames.init();
remote.init();
offline.init();
tv.init();
live.start();
