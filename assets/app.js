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

  var player = document.getElementById("player");
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
