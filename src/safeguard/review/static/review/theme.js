// Safeguard console: apply the person's chosen theme (dark or light) before the page is drawn,
// so a dark-mode choice never flashes a white page at 3 a.m. Load it in <head> without `defer`.
// console.js owns the toggle that stores the choice; this file only reads it.
(function () {
  "use strict";
  try {
    var chosen = window.localStorage.getItem("safeguard-theme");
    if (chosen === "dark" || chosen === "light") {
      document.documentElement.setAttribute("data-theme", chosen);
    }
  } catch (e) { /* storage refused: the system's setting applies */ }
})();
