// Selection and batch changes on gallery pages.
import { api } from "./api.js";

export function init() {
  const selectMode = document.getElementById("select-mode");
  const batchBar = document.getElementById("batch-bar");
  if (!selectMode || !batchBar) return;
  selectMode.classList.remove("waiting");
  const picks = () => Array.from(/** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll("input.pick")));
  const chosen = () => picks().filter((p) => p.checked).map((p) => p.value);
  const count = () => { document.getElementById("batch-count").textContent = chosen().length + " selected"; };
  selectMode.addEventListener("click", () => {
    const on = selectMode.getAttribute("aria-pressed") !== "true";
    selectMode.setAttribute("aria-pressed", String(on));
    selectMode.textContent = on ? "Done" : "Select";
    batchBar.hidden = !on;
    document.body.classList.toggle("selecting", on);
    picks().forEach((p) => { p.hidden = !on; if (!on) p.checked = false; });
    count();
  });
  // Selecting, a card's picture or title picks it (instead of playing it).
  document.getElementById("gallery-grid").addEventListener("click", (e) => {
    if (selectMode.getAttribute("aria-pressed") !== "true") return;
    const link = /** @type {Element} */ (e.target).closest(".card > a");
    const pick = link && /** @type {HTMLInputElement} */ (link.closest("li").querySelector("input.pick"));
    if (!pick) return;
    e.preventDefault();
    pick.checked = !pick.checked;
    count();
  });
  // Escape leaves select mode (a menu or field of the bar keeps its own).
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || selectMode.getAttribute("aria-pressed") !== "true") return;
    const t = /** @type {Element} */ (e.target);
    if (t.matches && t.matches("input[type=text], select") && /** @type {HTMLInputElement} */ (t).value) return;
    selectMode.click();
    selectMode.focus();
  });
  document.addEventListener("change", (e) => {
    const t = /** @type {Element} */ (e.target);
    if (t.classList && t.classList.contains("pick")) count();
  });
  document.getElementById("batch-done").addEventListener("click", () => { selectMode.click(); selectMode.focus(); });
  // On a phone each tool opens on demand, one at a time.
  const openers = Array.from(batchBar.querySelectorAll("button.batch-open"));
  for (const b of openers) {
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      for (const o of openers) {
        const on = o === b && open;
        o.setAttribute("aria-expanded", String(on));
        document.getElementById(o.getAttribute("aria-controls")).classList.toggle("open", on);
      }
      if (open) /** @type {HTMLElement} */ (document.getElementById(b.getAttribute("aria-controls")).querySelector("input:not([hidden]), select")).focus();
    });
  }
  document.getElementById("batch-all").addEventListener("click", () => {
    picks().forEach((p) => { p.checked = true; });
    count();
  });
  const status = document.getElementById("batch-status");
  const batch = async (change) => {
    const ids = chosen();
    if (!ids.length) { status.textContent = "Select some videos first."; return; }
    change.ids = ids;
    const d = await api("POST", "/api/v1/batch", change);
    status.textContent = d ? "Changed " + d.videos + (d.videos === 1 ? " video." : " videos.") : "Nothing was changed.";
  };
  const tagValue = () => /** @type {HTMLInputElement} */ (document.getElementById("batch-tag")).value.trim();
  document.getElementById("batch-add").addEventListener("click", () => { if (tagValue()) batch({ add_tags: [tagValue()] }); });
  document.getElementById("batch-remove").addEventListener("click", () => { if (tagValue()) batch({ remove_tags: [tagValue()] }); });
  document.getElementById("batch-fav").addEventListener("click", () => batch({ favorite: true }));
  document.getElementById("batch-unfav").addEventListener("click", () => batch({ favorite: false }));
}
