// Gallery cards: stars and heart, and a preview under the pointer (a strip
// to scrub through, or a muted clip).
import { api, userSummary } from "./api.js";
import { on, onResync } from "./live.js";

function showCard(card, d) {
  const text = userSummary(d);
  const rated = card.querySelector(".user .rated");
  if (rated) rated.textContent = text.rated;
  const viewed = card.querySelector(".user .viewed");
  if (viewed) viewed.textContent = text.viewed;
  const f = card.querySelector(".fav");
  if (f) f.hidden = !d.favorite;
  // Watched, once seen and not begun again (known from one's own data).
  if ("last_viewed" in d) {
    const household = document.body.dataset.household === "1";
    const watched = d.position_ms == null && (household ? d.views > 0 : !!d.last_viewed);
    const tick = /** @type {HTMLElement | null} */ (card.querySelector(".thumb .seen"));
    if (tick) tick.hidden = !watched;
    // Said to screen readers after the title, while it is so.
    const title = card.querySelector(".info .title");
    const said = title && title.querySelector(".seen-said");
    if (watched && title && !said) {
      const s = document.createElement("span");
      s.className = "skip seen-said";
      s.textContent = ", watched";
      title.appendChild(s);
    } else if (!watched && said) said.remove();
  }
  card.querySelectorAll(".card-actions .star").forEach((b) => {
    b.setAttribute("aria-pressed", String((d.rating || 0) >= Number(b.dataset.rating)));
  });
  const h = card.querySelector(".card-actions .heart");
  if (h) h.setAttribute("aria-pressed", String(!!d.favorite));
}

async function press(b) {
  const card = b.closest(".card");
  const base = "/api/v1/videos/" + card.dataset.id + "/";
  let d;
  if (b.classList.contains("heart")) {
    d = await api(b.getAttribute("aria-pressed") === "true" ? "DELETE" : "PUT", base + "favorite");
  } else {
    const next = b.nextElementSibling;
    // Pressing the highest lit star clears the rating.
    const same = b.getAttribute("aria-pressed") === "true" &&
      !(next && next.classList.contains("star") && next.getAttribute("aria-pressed") === "true");
    d = same ? await api("DELETE", base + "rating") : await api("PUT", base + "rating", { rating: Number(b.dataset.rating) });
  }
  if (d) showCard(card, d);
}

// Hover (or long-press) a card: a muted preview plays in its thumbnail,
// loaded only then, stopped and unloaded on leave.
function startPreview(card) {
  const thumb = card.querySelector(".thumb");
  if (!thumb || thumb.querySelector("video")) return;
  const v = document.createElement("video");
  v.muted = true; v.playsInline = true; v.preload = "metadata"; v.className = "preview";
  v.setAttribute("aria-hidden", "true");
  v.addEventListener("loadedmetadata", () => {
    if (v.duration > 20) v.currentTime = v.duration * 0.1;
    const p = v.play();
    if (p && p.catch) p.catch(() => { /* autoplay refused */ });
  });
  v.src = "/video/" + card.dataset.id;
  thumb.appendChild(v);
}

function stopPreview(card) {
  const v = card.querySelector("video.preview");
  if (!v) return;
  v.pause(); v.removeAttribute("src"); v.load(); v.remove();
}

// Cards with a preview strip scrub through it with the pointer instead.
function scrub(card, e) {
  const thumb = card.querySelector(".thumb");
  const r = thumb.getBoundingClientRect();
  let layer = thumb.querySelector(".scrub");
  if (!layer) {
    layer = document.createElement("div");
    layer.className = "scrub";
    layer.setAttribute("aria-hidden", "true");
    layer.style.backgroundImage = "url(/sprite/" + card.dataset.id + ".jpg)";
    thumb.appendChild(layer);
  }
  const i = Math.min(19, Math.max(0, Math.floor((e.clientX - r.left) / r.width * 20)));
  layer.style.backgroundSize = (r.width * 10) + "px " + (r.height * 2) + "px";
  layer.style.backgroundPosition = (-(i % 10) * r.width) + "px " + (-Math.floor(i / 10) * r.height) + "px";
}

function previews(card) {
  if (card.dataset.sprite) {
    card.addEventListener("mousemove", (e) => scrub(card, e));
    card.addEventListener("mouseleave", () => {
      const layer = card.querySelector(".scrub");
      if (layer) layer.remove();
    });
    return;
  }
  let hover = null;
  card.addEventListener("mouseenter", () => { hover = setTimeout(() => startPreview(card), 350); });
  card.addEventListener("mouseleave", () => { clearTimeout(hover); stopPreview(card); });
  let hold = null;
  card.addEventListener("touchstart", () => { hold = setTimeout(() => startPreview(card), 500); }, { passive: true });
  ["touchend", "touchmove", "touchcancel"].forEach((t) => {
    card.addEventListener(t, () => { clearTimeout(hold); if (t !== "touchend") stopPreview(card); }, { passive: true });
  });
}

export function init() {
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".card-actions")).forEach((a) => { a.classList.remove("waiting"); });
  // The stars and heart now say the rating and favorite: once is enough.
  document.documentElement.classList.add("card-actions-on");
  document.addEventListener("click", (e) => {
    const t = /** @type {Element} */ (e.target);
    const b = t.closest && t.closest(".card-actions button");
    if (b) press(b);
  });
  document.querySelectorAll(".card").forEach(previews);
  // A card is one Tab stop (its link; the arrow keys go from card to
  // card): on it, 1 to 5 rate, 0 clears the rating and F is the heart.
  document.addEventListener("keydown", (e) => {
    const t = /** @type {Element} */ (e.target);
    const link = t.closest && t.closest(".card > a");
    if (!link || e.ctrlKey || e.metaKey || e.altKey) return;
    const card = link.closest(".card");
    const key = e.key.toLowerCase();
    let b = null;
    if (key >= "1" && key <= "5") b = card.querySelector('.card-actions .star[data-rating="' + key + '"]');
    else if (key === "f") b = card.querySelector(".card-actions .heart");
    else if (key === "0") {
      // Pressing the highest lit star clears the rating.
      const lit = card.querySelectorAll('.card-actions .star[aria-pressed="true"]');
      b = lit[lit.length - 1] || null;
    }
    if (!b || b.closest("[hidden]")) return;
    e.preventDefault();
    press(b);
  });
  // Another person's change carries only the shared fields (views, tags,
  // title): this card keeps its own rating and favorite.
  on("user", (d) => document.querySelectorAll('.card[data-id="' + d.id + '"]').forEach((card) => {
    if (!("rating" in d)) {
      const lit = card.querySelectorAll('.card-actions .star[aria-pressed="true"]').length;
      const h = card.querySelector(".card-actions .heart");
      d = Object.assign({}, d, { rating: lit || null, favorite: !!h && h.getAttribute("aria-pressed") === "true" });
    }
    showCard(card, d);
  }));
  // Back into view: the cards shown, as they are now (one request).
  onResync(async () => {
    const cards = /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".card[data-id]"));
    const ids = [...new Set([...cards].map((c) => c.dataset.id))].slice(0, 100);
    if (!ids.length) return;
    const fresh = await api("GET", "/api/v1/videos?per_page=100&ids=" + ids.join(","), undefined, { quiet: true });
    if (!fresh) return;
    fresh.videos.forEach((v) => document.querySelectorAll('.card[data-id="' + v.id + '"]').forEach((card) => showCard(card, v)));
  });
}
