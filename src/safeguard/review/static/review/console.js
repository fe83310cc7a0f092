// Safeguard console: live deadline countdowns and keyboard shortcuts. No framework, no build.
// Every element with data-key="x" answers key x (click a button, toggle a checkbox, focus a
// text box); data-help describes it in the help overlay that `?` opens.
(function () {
  "use strict";

  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (left < 0 ? "overdue by " : "in ") + (h ? h + "h " : "") + m + "m " + sec + "s";
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  function chord(event) {
    var key = event.key.toLowerCase();
    if (key === "enter" || key === "escape" || key.length === 1) {
      return (event.ctrlKey || event.metaKey ? "ctrl+" : "") + key;
    }
    return "";
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "checkbox"));
  }

  var overlay = null;
  function toggleHelp() {
    if (overlay) { overlay.remove(); overlay = null; return; }
    overlay = document.createElement("div");
    overlay.id = "shortcut-help";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-label", "Keyboard shortcuts");
    var rows = [["?", "show or hide this help"], ["1–4", "industry class A1, A2, B1, B2 of the first media item"]];
    document.querySelectorAll("[data-key]").forEach(function (el) {
      rows.push([el.getAttribute("data-key"), el.getAttribute("data-help") || el.textContent.trim()]);
    });
    var table = document.createElement("table");
    rows.forEach(function (row) {
      var tr = table.insertRow();
      var k = tr.insertCell(); var kbd = document.createElement("kbd"); kbd.textContent = row[0]; k.appendChild(kbd);
      tr.insertCell().textContent = row[1];
    });
    var title = document.createElement("h2");
    title.textContent = "Keyboard shortcuts";
    overlay.appendChild(title);
    overlay.appendChild(table);
    document.body.appendChild(overlay);
  }

  document.addEventListener("keydown", function (event) {
    var key = chord(event);
    if (!key) { return; }
    if (key === "?" || (key === "/" && event.shiftKey)) { event.preventDefault(); toggleHelp(); return; }
    if (key === "escape" && overlay) { toggleHelp(); return; }
    var inText = typing(event.target);
    if (inText && key.indexOf("ctrl+") !== 0) { return; }
    if (!inText && /^[1-4]$/.test(key)) {
      var select = document.querySelector("select.industry-class");
      if (select) { select.selectedIndex = Number(key); event.preventDefault(); }
      return;
    }
    var el = document.querySelector('[data-key="' + key + '"]');
    if (!el) { return; }
    event.preventDefault();
    if (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "checkbox")) {
      el.focus();
    } else {
      el.click();
    }
  });
})();
