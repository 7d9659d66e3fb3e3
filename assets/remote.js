// A TV remote or a keyboard alone: the arrow keys move focus to the
// nearest control that way (from card to card inside a grid first, then
// out of it to the header, the tools, the pages), Enter acts (the
// control's own behaviour), and on the watch page a remote's Back key goes
// back to where the person came from. Escape and Backspace do not: on a
// keyboard they close what is open (the chat, full screen) or edit text,
// and the browser's own Back is Alt+Left. Keys the page took first (the
// player's), typed into a field, or taken by a focused control stay
// theirs; arrows move focus only from where the keys put it (not from a
// button a mouse pressed).

// Cards, posters (films, series, seasons), folders, playlists: whatever a grid holds.
const CARD = ".card > a, ul.posters > li > a, #folder-list > li > a, ul.playlists a.name";
// Everything else one may move to.
// (Not what Tab skips: a card's own stars, a second link to the same place.)
const CONTROLS = ["a[href]", "button:not([disabled])", "summary", "select:not([disabled])",
  "input:not([type=hidden]):not([disabled])", "textarea:not([disabled])", "[tabindex='0']"]
  .map((c) => c + ":not([tabindex='-1'])");
const FOCUSABLE = CONTROLS.join(", ");

/** A remote's Back key: by name, or by the codes webOS (461) and Tizen
 * (10009) send. */
function isBack(e) {
  return e.key === "GoBack" || e.key === "BrowserBack" || e.key === "XF86Back" || e.keyCode === 461 || e.keyCode === 10009;
}

/** Whether `key` on `el` belongs to it: text is edited with ← →, a menu
 * or a number box changes with ↑ ↓, a slider with all four; the chat
 * panel keeps its keys. A one-line text box lets ↑ ↓ out, and ← → at
 * its ends. */
function taken(el, key) {
  if (!(el instanceof Element)) return false;
  if (el.closest("#chat-panel, textarea, [contenteditable=true]")) return true;
  const sideways = key === "ArrowLeft" || key === "ArrowRight";
  if (el instanceof HTMLSelectElement) return !sideways;
  if (el instanceof HTMLInputElement) {
    if (el.type === "range") return true;
    if (el.type === "number") return true;
    if (["checkbox", "radio", "button", "submit"].includes(el.type)) return false;
    // ← and → move the caret, until it is at that end of the text.
    if (!sideways) return false;
    const end = el.value.length;
    if (el.selectionStart !== el.selectionEnd || el.selectionStart === null) return true;
    return key === "ArrowLeft" ? el.selectionStart > 0 : el.selectionStart < end;
  }
  return false;
}

/** Whether `el` is on the page to be moved to: shown, with a size, not in
 * a closed menu or an inert part. */
function reachable(el) {
  const r = el.getBoundingClientRect();
  // (A skip link is a pixel until it has focus.)
  if (r.width <= 1 || r.height <= 1) return false;
  if (el.closest("[inert], [hidden], details:not([open]) > :not(summary)")) return false;
  return !("checkVisibility" in el) || el.checkVisibility({ visibilityProperty: true });
}

/** Of `selector`'s elements, the one nearest to `from` in the direction
 * of `key`: sideways, the nearest within the row; up or down, the
 * nearest row (by its edge), and in it the nearest to the same column. */
function nearest(from, key, selector) {
  const r = from.getBoundingClientRect();
  const cx = r.left + r.width / 2;
  const sideways = key === "ArrowLeft" || key === "ArrowRight";
  /** @type {{ el: HTMLElement, gap: number, across: number }[]} */
  const ahead = [];
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(selector)).forEach((el) => {
    if (el === from || el.contains(from) || from.contains(el) || !reachable(el)) return;
    const b = el.getBoundingClientRect();
    // How far ahead its near edge is (a little overlap allowed), and how
    // far off the line it lies.
    const gap = { ArrowRight: b.left - r.right, ArrowLeft: r.left - b.right, ArrowDown: b.top - r.bottom, ArrowUp: r.top - b.bottom }[key];
    const centreAhead = { ArrowRight: b.left + b.width / 2 > cx + 1, ArrowLeft: b.left + b.width / 2 < cx - 1,
      ArrowDown: b.top + b.height / 2 > r.top + r.height / 2 + 1, ArrowUp: b.top + b.height / 2 < r.top + r.height / 2 - 1 }[key];
    if (gap < -8 || !centreAhead) return;
    if (sideways && (b.bottom <= r.top + 2 || b.top >= r.bottom - 2)) return;
    const across = sideways ? Math.abs(b.top + b.height / 2 - (r.top + r.height / 2))
      : Math.max(0, b.left - r.right, r.left - b.right) + Math.abs(b.left + b.width / 2 - cx) / 100;
    ahead.push({ el, gap: Math.max(0, gap), across });
  });
  if (!ahead.length) return null;
  if (sideways) {
    ahead.sort((a, b) => a.gap + a.across - (b.gap + b.across));
    return ahead[0].el;
  }
  // The nearest row: what starts within a few pixels of the nearest edge.
  const row = Math.min(...ahead.map((c) => c.gap)) + 12;
  ahead.sort((a, b) => (a.gap <= row ? 0 : 1) - (b.gap <= row ? 0 : 1) || a.across - b.across || a.gap - b.gap);
  return ahead[0].el;
}

/** Where the arrow `key` goes from the focused `here` (`null`: nothing
 * focused yet, the way in: the first card, else the page's first control). */
function target(here, key) {
  if (!here) {
    const first = [...document.querySelectorAll(CARD), ...document.querySelectorAll(CONTROLS.map((c) => "main " + c).join(", "))]
      .find((el) => reachable(/** @type {HTMLElement} */ (el)));
    return /** @type {HTMLElement | undefined} */ (first) || null;
  }
  if (here.matches(CARD)) return nearest(here, key, CARD) || nearest(here, key, FOCUSABLE);
  return nearest(here, key, FOCUSABLE + ", " + CARD);
}

export function init() {
  const watching = document.getElementById("player");
  // Whether focus came with a click or a tap (a key press makes even that
  // element :focus-visible, so the time of the last press decides).
  let pressedAt = -1;
  let byPointer = false;
  document.addEventListener("pointerdown", (e) => { pressedAt = e.timeStamp; }, true);
  document.addEventListener("focusin", (e) => { byPointer = e.timeStamp - pressedAt < 1000; }, true);
  // After the page's own handlers (the player's shortcuts come first).
  window.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
    if (e.key.startsWith("Arrow")) {
      const active = document.activeElement;
      const here = active && active !== document.body && active instanceof HTMLElement ? active : null;
      if (here && taken(here, e.key)) return;
      // A button or link the mouse pressed keeps the arrows' scrolling.
      if (here && byPointer && !here.matches(CARD)) return;
      // Inside an open dialog, only its own controls.
      if (document.querySelector("dialog[open]")) return;
      const to = target(here, e.key);
      if (!to) return;
      e.preventDefault();
      to.focus({ preventScroll: true });
      // The whole card (drawn larger when focused) into view.
      (to.closest(".card, li") || to).scrollIntoView({ block: "nearest", inline: "nearest" });
    } else if (watching && isBack(e)) {
      if (document.fullscreenElement) return;
      e.preventDefault();
      if (history.length > 1 && document.referrer.startsWith(location.origin)) history.back();
      else location.href = "/";
    }
  });
}
