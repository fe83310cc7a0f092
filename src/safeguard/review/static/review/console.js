// Safeguard console: live countdowns for deadlines. No framework, no build step.
(function () {
  "use strict";
  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      var left = Math.round((due - Date.now()) / 1000);
      var sign = left < 0 ? "overdue by " : "in ";
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = sign + (h ? h + "h " : "") + m + "m " + sec + "s";
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
