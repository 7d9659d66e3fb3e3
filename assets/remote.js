// A TV remote or a keyboard alone: the arrow keys move between the
// gallery's cards (to the nearest card that way), Enter opens one (the
// link's own behaviour), and on the watch page a remote's Back key goes
// back to where the person came from. Escape and Backspace do not: on a
// keyboard they close what is open (the chat, full screen) or edit text,
// and the browser's own Back is Alt+Left. Keys typed into a field, or
// taken by a focused control, stay theirs.

// Cards, posters (films, series, seasons) and folders: whatever a grid holds.
const CARD = ".card > a, ul.posters > li > a, #folder-list > li > a";

/** A remote's Back key: by name, or by the codes webOS (461) and Tizen
 * (10009) send. */
function isBack(e) {
  return e.key === "GoBack" || e.key === "BrowserBack" || e.key === "XF86Back" || e.keyCode === 461 || e.keyCode === 10009;
}

/** Whether a key on `el` belongs to it (fields and menus; with `player`,
 * the player too). */
function taken(el, player) {
  const fields = "input, textarea, select, [contenteditable=true], #chat-panel";
  return !!el && !!el.closest && !!el.closest(player ? fields + ", video" : fields);
}

/** The card link nearest to `from` in the direction of `key`. */
function nearest(from, key) {
  const r = from.getBoundingClientRect();
  const cx = r.left + r.width / 2;
  const cy = r.top + r.height / 2;
  let best = null;
  let bestScore = Infinity;
  /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll(CARD)).forEach((link) => {
    if (link === from || !link.offsetParent) return;
    const b = link.getBoundingClientRect();
    const dx = b.left + b.width / 2 - cx;
    const dy = b.top + b.height / 2 - cy;
    const sideways = key === "ArrowLeft" || key === "ArrowRight";
    const ahead = { ArrowRight: dx > 1, ArrowLeft: dx < -1, ArrowDown: dy > 1, ArrowUp: dy < -1 }[key];
    // Left and right stay in the row; up and down prefer the same column.
    if (!ahead || (sideways && Math.abs(dy) > r.height / 2)) return;
    const score = sideways ? Math.abs(dx) : Math.abs(dy) * 4 + Math.abs(dx);
    if (score < bestScore) { bestScore = score; best = link; }
  });
  return best;
}

export function init() {
  const gallery = document.querySelector(CARD);
  const watching = document.getElementById("player");
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey || taken(e.target, false)) return;
    if (gallery && e.key.startsWith("Arrow") && !taken(e.target, true)) {
      const active = document.activeElement;
      const here = active && active.matches && active.matches(CARD) ? active : null;
      // From outside the grid only the way in (down) is taken.
      if (!here && e.key !== "ArrowDown" && document.activeElement !== document.body) return;
      const to = here ? nearest(here, e.key) : document.querySelector(CARD);
      if (!to) return;
      e.preventDefault();
      to.focus();
      to.scrollIntoView({ block: "nearest" });
    } else if (watching && isBack(e) && !e.defaultPrevented) {
      if (document.fullscreenElement) return;
      e.preventDefault();
      if (history.length > 1 && document.referrer.startsWith(location.origin)) history.back();
      else location.href = "/";
    }
  });
}
