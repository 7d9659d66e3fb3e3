// Applies the saved theme before first paint (loaded synchronously in <head>).
(function () {
  try {
    var t = localStorage.getItem("vidserve-theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) { /* storage may be disabled */ }
})();
