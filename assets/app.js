// Progressive enhancement: theme toggle, sort bar auto-submit, player keys.
(function () {
  "use strict";
  var root = document.documentElement;

  function systemTheme() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
  }
  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var next = (root.dataset.theme || systemTheme()) === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("vidserve-theme", next); } catch (e) { /* ignore */ }
    });
  }

  var sortForm = document.getElementById("sort-form");
  if (sortForm) {
    var go = sortForm.querySelector("button[type=submit]");
    if (go) go.hidden = true;
    sortForm.querySelectorAll("select").forEach(function (s) {
      s.addEventListener("change", function () { sortForm.submit(); });
    });
  }

  // Rating, favorite and view count on the watch page.
  var actions = document.getElementById("actions");
  function showUser(d) {
    if (!actions || !d) return;
    actions.querySelectorAll(".star").forEach(function (b) {
      b.setAttribute("aria-pressed", String((d.rating || 0) >= Number(b.dataset.rating)));
    });
    var clear = actions.querySelector(".clear");
    if (clear) clear.hidden = !d.rating;
    var fav = document.getElementById("favorite");
    if (fav) fav.setAttribute("aria-pressed", String(!!d.favorite));
    var views = document.getElementById("views");
    if (views) views.textContent = d.views + (d.views === 1 ? " view" : " views");
  }
  function send(method, what, body) {
    var opts = { method: method, headers: {} };
    if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch("/api/v1/videos/" + actions.dataset.id + "/" + what, opts)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(showUser)
      .catch(function () { /* offline: the page keeps its state */ });
  }
  if (actions) {
    actions.addEventListener("click", function (e) {
      var b = e.target.closest("button");
      if (!b) return;
      if (b.id === "favorite") {
        send(b.getAttribute("aria-pressed") === "true" ? "DELETE" : "PUT", "favorite");
      } else if (b.dataset.rating) {
        var r = Number(b.dataset.rating);
        if (r === 0) send("DELETE", "rating"); else send("PUT", "rating", { rating: r });
      }
    });
  }

  // Tags on the watch page: add with the form, remove with ×.
  var tagBox = document.getElementById("tags");
  function showTags(d) {
    if (!tagBox || !d || !d.tags) return;
    var list = document.getElementById("tag-list");
    list.textContent = "";
    d.tags.forEach(function (t) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "/tag/" + encodeURIComponent(t);
      a.textContent = "#" + t;
      var x = document.createElement("button");
      x.type = "button"; x.className = "untag"; x.dataset.tag = t; x.textContent = "×";
      x.setAttribute("aria-label", "Remove tag " + t);
      li.appendChild(a); li.appendChild(x); list.appendChild(li);
    });
  }
  function tagRequest(method, url, body) {
    var opts = { method: method, headers: {} };
    if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) { return r.ok ? r.json() : null; }).then(showTags)
      .catch(function () { /* keep the page as it is */ });
  }
  if (tagBox) {
    var base = "/api/v1/videos/" + tagBox.dataset.id + "/tags";
    document.getElementById("tag-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var input = document.getElementById("tag-input");
      var tag = input.value.trim();
      if (!tag) return;
      tagRequest("POST", base, { tag: tag }).then(function () { input.value = ""; });
    });
    tagBox.addEventListener("click", function (e) {
      var b = e.target.closest("button.untag");
      if (b) tagRequest("DELETE", base + "/" + encodeURIComponent(b.dataset.tag));
    });
  }

  // Stars and heart on gallery cards.
  function showCard(card, d) {
    var u = card.querySelector(".user");
    if (u) u.textContent = userSummary(d);
    var f = card.querySelector(".fav");
    if (f) f.hidden = !d.favorite;
    card.querySelectorAll(".card-actions .star").forEach(function (b) {
      b.setAttribute("aria-pressed", String((d.rating || 0) >= Number(b.dataset.rating)));
    });
    var h = card.querySelector(".card-actions .heart");
    if (h) h.setAttribute("aria-pressed", String(!!d.favorite));
  }
  document.querySelectorAll(".card-actions").forEach(function (a) { a.hidden = false; });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".card-actions button");
    if (!b) return;
    var card = b.closest(".card");
    var base = "/api/v1/videos/" + card.dataset.id + "/";
    var req;
    if (b.classList.contains("heart")) {
      req = fetch(base + "favorite", { method: b.getAttribute("aria-pressed") === "true" ? "DELETE" : "PUT" });
    } else {
      var r = Number(b.dataset.rating);
      var same = b.getAttribute("aria-pressed") === "true" &&
        !(b.nextElementSibling && b.nextElementSibling.classList.contains("star") && b.nextElementSibling.getAttribute("aria-pressed") === "true");
      req = same ? fetch(base + "rating", { method: "DELETE" }) : fetch(base + "rating", {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ rating: r })
      });
    }
    req.then(function (res) { return res.ok ? res.json() : null; })
      .then(function (d) { if (d) showCard(card, d); })
      .catch(function () { /* keep the card as it is */ });
  });

  // Hover (or long-press) a card: a muted preview plays in its thumbnail,
  // loaded only then, stopped and unloaded on leave.
  function startPreview(card) {
    var thumb = card.querySelector(".thumb");
    if (!thumb || thumb.querySelector("video")) return;
    var v = document.createElement("video");
    v.muted = true; v.playsInline = true; v.preload = "metadata"; v.className = "preview";
    v.setAttribute("aria-hidden", "true");
    v.addEventListener("loadedmetadata", function () {
      if (v.duration > 20) v.currentTime = v.duration * 0.1;
      var p = v.play(); if (p && p.catch) p.catch(function () { /* autoplay refused */ });
    });
    v.src = "/video/" + card.dataset.id;
    thumb.appendChild(v);
  }
  function stopPreview(card) {
    var v = card.querySelector("video.preview");
    if (!v) return;
    v.pause(); v.removeAttribute("src"); v.load(); v.remove();
  }
  // Cards with a preview strip scrub through it with the pointer instead.
  function scrub(card, e) {
    var thumb = card.querySelector(".thumb");
    var r = thumb.getBoundingClientRect();
    var layer = thumb.querySelector(".scrub");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "scrub";
      layer.setAttribute("aria-hidden", "true");
      layer.style.backgroundImage = "url(/sprite/" + card.dataset.id + ".jpg)";
      thumb.appendChild(layer);
    }
    var i = Math.min(19, Math.max(0, Math.floor((e.clientX - r.left) / r.width * 20)));
    layer.style.backgroundSize = (r.width * 10) + "px " + (r.height * 2) + "px";
    layer.style.backgroundPosition = (-(i % 10) * r.width) + "px " + (-Math.floor(i / 10) * r.height) + "px";
  }
  var hoverTimer = null;
  document.querySelectorAll(".card").forEach(function (card) {
    if (card.dataset.sprite) {
      card.addEventListener("mousemove", function (e) { scrub(card, e); });
      card.addEventListener("mouseleave", function () {
        var layer = card.querySelector(".scrub");
        if (layer) layer.remove();
      });
      return;
    }
    card.addEventListener("mouseenter", function () {
      hoverTimer = setTimeout(function () { startPreview(card); }, 350);
    });
    card.addEventListener("mouseleave", function () { clearTimeout(hoverTimer); stopPreview(card); });
    var press = null;
    card.addEventListener("touchstart", function () {
      press = setTimeout(function () { startPreview(card); }, 500);
    }, { passive: true });
    ["touchend", "touchmove", "touchcancel"].forEach(function (t) {
      card.addEventListener(t, function () { clearTimeout(press); if (t !== "touchend") stopPreview(card); }, { passive: true });
    });
  });

  // The admin dashboard: a minute of history per chart, from `perf` events.
  var history = { req: [], p99: [], p50: [], mbs: [], rss: [] };
  function draw(id, series, colors) {
    var c = document.getElementById("chart-" + id);
    if (!c) return;
    var g = c.getContext("2d"), w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    var max = 1;
    series.forEach(function (s) { s.forEach(function (v) { if (v > max) max = v; }); });
    series.forEach(function (s, k) {
      g.strokeStyle = colors[k]; g.lineWidth = 2; g.beginPath();
      s.forEach(function (v, i) {
        var x = (i / 59) * (w - 2) + 1, y = h - 2 - (v / max) * (h - 6);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
  }
  function onPerf(d) {
    if (!document.getElementById("dashboard")) return;
    var push = function (k, v) { history[k].push(v); if (history[k].length > 60) history[k].shift(); };
    push("req", d.requests_per_second); push("p50", d.p50_ms); push("p99", d.p99_ms);
    push("mbs", d.mb_per_second); push("rss", d.rss_mib);
    var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#ff7a50";
    draw("req", [history.req], [accent]);
    draw("p99", [history.p50, history.p99], ["#4caf50", accent]);
    draw("mbs", [history.mbs], [accent]);
    draw("rss", [history.rss], [accent]);
    var set = function (id, text) { var el = document.getElementById("now-" + id); if (el) el.textContent = text; };
    set("req", String(d.requests_per_second));
    set("p99", d.p50_ms.toFixed(2) + " / " + d.p99_ms.toFixed(2));
    set("mbs", d.mb_per_second.toFixed(1) + " (" + d.active_streams + " streams)");
    set("rss", String(d.rss_mib));
  }
  var ltForm = document.getElementById("loadtest-form");
  if (ltForm) {
    ltForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var out = document.getElementById("loadtest-result");
      out.textContent = "Running…";
      fetch("/admin/performance", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ action: "load_test", scenario: document.getElementById("lt-scenario").value, connections: 20, duration: 5 })
      }).then(function (r) { return r.json(); }).then(function (d) {
        var r = d.report;
        out.textContent = r ? Math.round(r.requests_per_second) + " req/s, p50 " + r.p50_ms.toFixed(2) + " ms, p99 " +
          r.p99_ms.toFixed(2) + " ms, " + (r.bytes_per_second / 1e6).toFixed(1) + " MB/s, " + r.errors + " errors"
          : (d.error && d.error.message) || "Failed.";
      }).catch(function () { out.textContent = "The server could not be reached."; });
    });
  }

  // Live updates (server-sent events), only while the page is visible: a
  // browser allows few connections per server, hidden tabs give theirs back.
  function userSummary(d) {
    var s = "";
    if (d.rating) s += " · " + d.rating + "★";
    if (d.views) s += " · " + d.views + (d.views === 1 ? " view" : " views");
    return s;
  }
  function onUser(d) {
    if (actions && actions.dataset.id === d.id) showUser(d);
    if (tagBox && tagBox.dataset.id === d.id) showTags(d);
    document.querySelectorAll('.card[data-id="' + d.id + '"]').forEach(function (card) { showCard(card, d); });
  }
  var source = null;
  function connect() {
    if (source || !window.EventSource) return;
    source = new EventSource("/api/v1/events");
    source.addEventListener("user", function (e) {
      try { onUser(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ }
    });
    source.addEventListener("library", function () {
      var banner = document.getElementById("live-banner");
      if (banner && document.querySelector("ul.grid")) banner.hidden = false;
    });
    source.addEventListener("resync", function () { location.reload(); });
    source.addEventListener("perf", function (e) {
      try { onPerf(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ }
    });
  }
  function disconnect() { if (source) { source.close(); source = null; } }
  document.addEventListener("visibilitychange", function () { if (document.hidden) disconnect(); else connect(); });
  window.addEventListener("pagehide", disconnect);
  if (!document.hidden) connect();

  // Rename: the file keeps its name, the library shows the new title.
  var titleForm = document.getElementById("title-form");
  function saveTitle(title) {
    fetch("/api/v1/videos/" + titleForm.dataset.id, {
      method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ title: title })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
      if (!d) return;
      var shown = d.title || document.getElementById("title-reset").dataset.fileTitle;
      document.getElementById("title").textContent = shown;
      document.getElementById("title-input").value = shown;
      document.title = shown + " · vidserve";
      titleForm.closest("details").open = false;
    }).catch(function () { /* keep the page as it is */ });
  }
  if (titleForm) {
    titleForm.addEventListener("submit", function (e) {
      e.preventDefault();
      saveTitle(document.getElementById("title-input").value);
    });
    document.getElementById("title-reset").addEventListener("click", function () { saveTitle(null); });
  }

  // Selection and batch changes on gallery pages.
  var selectMode = document.getElementById("select-mode");
  var batchBar = document.getElementById("batch-bar");
  if (selectMode && batchBar) {
    selectMode.hidden = false;
    var picks = function () { return Array.prototype.slice.call(document.querySelectorAll("input.pick")); };
    var chosen = function () { return picks().filter(function (p) { return p.checked; }).map(function (p) { return p.value; }); };
    var count = function () { document.getElementById("batch-count").textContent = chosen().length + " selected"; };
    selectMode.addEventListener("click", function () {
      var on = selectMode.getAttribute("aria-pressed") !== "true";
      selectMode.setAttribute("aria-pressed", String(on));
      selectMode.textContent = on ? "Done" : "Select";
      batchBar.hidden = !on;
      document.body.classList.toggle("selecting", on);
      picks().forEach(function (p) { p.hidden = !on; if (!on) p.checked = false; });
      count();
    });
    document.addEventListener("change", function (e) { if (e.target.classList && e.target.classList.contains("pick")) count(); });
    document.getElementById("batch-all").addEventListener("click", function () {
      picks().forEach(function (p) { p.checked = true; });
      count();
    });
    var status = document.getElementById("batch-status");
    var batch = function (change) {
      var ids = chosen();
      if (!ids.length) { status.textContent = "Select some videos first."; return; }
      change.ids = ids;
      fetch("/api/v1/batch", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(change) })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
        .then(function (res) {
          status.textContent = res.ok ? "Changed " + res.d.videos + " videos." : (res.d.error && res.d.error.message) || "Failed.";
        })
        .catch(function () { status.textContent = "The server could not be reached."; });
    };
    var tagValue = function () { return document.getElementById("batch-tag").value.trim(); };
    document.getElementById("batch-add").addEventListener("click", function () { if (tagValue()) batch({ add_tags: [tagValue()] }); });
    document.getElementById("batch-remove").addEventListener("click", function () { if (tagValue()) batch({ remove_tags: [tagValue()] }); });
    document.getElementById("batch-fav").addEventListener("click", function () { batch({ favorite: true }); });
    document.getElementById("batch-unfav").addEventListener("click", function () { batch({ favorite: false }); });
  }

  var player = document.getElementById("player");
  // Resume where playback stopped; remember the position as it goes.
  if (player && actions) {
    var posUrl = "/api/v1/videos/" + actions.dataset.id + "/position";
    var resume = Number(player.dataset.resume || 0) / 1000;
    var resumed = document.getElementById("resumed");
    player.addEventListener("loadedmetadata", function () {
      if (resume > 5 && resume < player.duration - 10) {
        player.currentTime = resume;
        if (resumed) resumed.hidden = false;
      }
    }, { once: true });
    var startOver = document.getElementById("start-over");
    if (startOver) startOver.addEventListener("click", function () { player.currentTime = 0; resumed.hidden = true; });
    var lastSaved = 0;
    function savePosition(force) {
      var t = player.currentTime || 0;
      if (!force && Math.abs(t - lastSaved) < 10) return;
      lastSaved = t;
      var near = player.duration && t > player.duration - 10;
      fetch(posUrl, near ? { method: "DELETE", keepalive: true } : {
        method: "PUT", keepalive: true, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ seconds: t })
      }).catch(function () { /* best effort */ });
    }
    player.addEventListener("timeupdate", function () { if (!player.paused) savePosition(false); });
    player.addEventListener("pause", function () { if (player.currentTime > 5) savePosition(true); });
    player.addEventListener("ended", function () { savePosition(true); });
    window.addEventListener("pagehide", function () { if (player.currentTime > 5) savePosition(true); });
  }
  // No thumbnail yet: send the server a frame of what plays (it checks and
  // re-encodes it). Once per page.
  if (player && actions && player.dataset.needsThumb) {
    var sent = false;
    player.addEventListener("timeupdate", function () {
      if (sent || player.currentTime < 1 || !player.videoWidth) return;
      sent = true;
      try {
        var canvas = document.createElement("canvas");
        var scale = Math.min(1, 640 / player.videoWidth);
        canvas.width = Math.round(player.videoWidth * scale);
        canvas.height = Math.round(player.videoHeight * scale);
        canvas.getContext("2d").drawImage(player, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob) return;
          fetch("/api/v1/videos/" + actions.dataset.id + "/thumbnail", {
            method: "POST", headers: { "Content-Type": "image/jpeg" }, body: blob
          }).catch(function () { /* best effort */ });
        }, "image/jpeg", 0.85);
      } catch (e) { /* a tainted or undecodable frame: skip */ }
    });
  }
  // Seek preview: over the lower part of the player (where its seek bar
  // is), the frame at that point of the video.
  if (player && player.dataset.sprite) {
    var tile = player.dataset.sprite.split("x").map(Number);
    var tip = document.createElement("div");
    tip.id = "seek-preview";
    tip.hidden = true;
    tip.setAttribute("aria-hidden", "true");
    tip.style.backgroundImage = "url(/sprite/" + actions.dataset.id + ".jpg)";
    tip.style.width = tile[0] + "px";
    tip.style.height = tile[1] + "px";
    var tipTime = document.createElement("span");
    tip.appendChild(tipTime);
    player.parentNode.insertBefore(tip, player.nextSibling);
    player.addEventListener("mousemove", function (e) {
      var r = player.getBoundingClientRect();
      if (!player.duration || e.clientY < r.bottom - 60) { tip.hidden = true; return; }
      var f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
      var i = Math.min(19, Math.floor(f * 20));
      tip.style.backgroundPosition = (-(i % 10) * tile[0]) + "px " + (-Math.floor(i / 10) * tile[1]) + "px";
      tip.style.left = Math.min(r.width - tile[0], Math.max(0, e.clientX - r.left - tile[0] / 2)) + "px";
      tip.style.top = (player.offsetTop + r.height - 70 - tile[1]) + "px";
      var t = Math.floor(f * player.duration);
      tipTime.textContent = Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
      tip.hidden = false;
    });
    player.addEventListener("mouseleave", function () { tip.hidden = true; });
  }
  // One view per page load, counted after a few seconds of playback.
  if (player && actions) {
    var watched = 0, last = null, counted = false;
    player.addEventListener("timeupdate", function () {
      var t = player.currentTime;
      if (last !== null && t > last && t - last < 2) watched += t - last;
      last = t;
      if (!counted && watched >= 5) { counted = true; send("POST", "view"); }
    });
    player.addEventListener("seeking", function () { last = null; });
  }
  if (player) {
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (e.ctrlKey || e.metaKey || e.altKey || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
      var d = player.duration || 0;
      switch (e.key) {
        case " ": case "k": player.paused ? player.play() : player.pause(); break;
        case "ArrowLeft": player.currentTime = Math.max(0, player.currentTime - 5); break;
        case "ArrowRight": player.currentTime = Math.min(d, player.currentTime + 5); break;
        case "j": player.currentTime = Math.max(0, player.currentTime - 10); break;
        case "l": player.currentTime = Math.min(d, player.currentTime + 10); break;
        case "m": player.muted = !player.muted; break;
        case "f":
          if (document.fullscreenElement) document.exitFullscreen();
          else if (player.requestFullscreen) player.requestFullscreen();
          break;
        default:
          if (e.key >= "0" && e.key <= "9" && d) { player.currentTime = d * Number(e.key) / 10; break; }
          return;
      }
      e.preventDefault();
    });
  }
})();
