// Safeguard console: the theme toggle, live deadline countdowns, drafts kept across a reveal,
// and keyboard shortcuts. No framework, no build; DOM built with createElement/textContent only
// (the pages require Trusted Types). Live updates are live.js's, not this file's.
// Every element with data-key="x" answers key x (click a button, toggle a checkbox, focus a
// text box); data-help describes it in the help dialog that `?` opens.
(function () {
  "use strict";
  // Pages may load this file more than once (a page's own tag and the base layout's): the
  // keys must answer once.
  if (window.__safeguardConsole) { return; }
  window.__safeguardConsole = true;

  // --- Theme: the system's choice, or the person's, kept in this browser ----------------------
  var THEME_KEY = "safeguard-theme";
  var root = document.documentElement;
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function storedTheme() {
    try { return window.localStorage.getItem(THEME_KEY); } catch (e) { return null; }
  }
  function effectiveTheme() {
    var chosen = storedTheme();
    if (chosen === "dark" || chosen === "light") { return chosen; }
    return systemDark && systemDark.matches ? "dark" : "light";
  }
  function applyTheme() {
    var chosen = storedTheme();
    if (chosen === "dark" || chosen === "light") { root.setAttribute("data-theme", chosen); }
    else { root.removeAttribute("data-theme"); }
    var button = document.getElementById("theme-toggle");
    if (button) {
      var dark = effectiveTheme() === "dark";
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.textContent = dark ? "Dark mode: on" : "Dark mode: off";
    }
  }
  function addThemeToggle() {
    var header = document.querySelector("body > header");
    if (!header || document.getElementById("theme-toggle")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.id = "theme-toggle";
    button.className = "theme-toggle";
    button.title = "Dark mode for night shifts: dims protected media too (kept in this browser)";
    button.addEventListener("click", function () {
      var next = effectiveTheme() === "dark" ? "light" : "dark";
      try { window.localStorage.setItem(THEME_KEY, next); } catch (e) { /* private mode */ }
      applyTheme();
    });
    var who = header.querySelector(".who");
    header.insertBefore(button, who ? who.nextSibling : null);
  }
  applyTheme();
  addThemeToggle();
  applyTheme();
  if (systemDark && systemDark.addEventListener) { systemDark.addEventListener("change", applyTheme); }

  // --- The case page: messages and the break reminder sit atop the evidence, so that they never
  // push the decision panel below the bottom of a 720-pixel screen ------------------------------
  var evidence = document.querySelector(".casepage > .evidence");
  if (evidence) {
    ["main > .messages", "main > #break"].forEach(function (selector) {
      var el = document.querySelector(selector);
      if (el) { evidence.insertBefore(el, evidence.firstChild); }
    });
  }

  // --- Countdowns: only for a case not yet acted on (a stopped clock is a sentence) -----------
  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (left < 0 ? "overdue by " : "due in ") + (h ? h + "h " : "") + m + "m " + sec + "s";
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  // --- Drafts: what a person typed or ticked survives a reveal, a note or a reload ------------
  // Kept in this tab only (sessionStorage), one draft per form (by its action, which names the
  // case); dropped when that form is sent. A form the server sent back after refusing it
  // already holds what was sent, with the error, and wins over its draft.
  function draftKey(form) { return "safeguard-draft:" + form.getAttribute("action"); }
  function fieldsOf(form) {
    return Array.prototype.slice.call(
      form.querySelectorAll("textarea[name], select[name], input[type=checkbox][name]"));
  }
  function fieldId(el) { return el.name + "|" + (el.type === "checkbox" ? el.value : ""); }
  function saveDraft(form) {
    var draft = {};
    fieldsOf(form).forEach(function (el) {
      draft[fieldId(el)] = el.type === "checkbox" ? el.checked : el.value;
    });
    try { window.sessionStorage.setItem(draftKey(form), JSON.stringify(draft)); } catch (e) { /* full */ }
  }
  function restoreDraft(form) {
    if (form.querySelector(".field-error")) { return; }
    var draft = null;
    try { draft = JSON.parse(window.sessionStorage.getItem(draftKey(form)) || "null"); } catch (e) { return; }
    if (!draft || typeof draft !== "object") { return; }
    fieldsOf(form).forEach(function (el) {
      var key = fieldId(el);
      if (!Object.prototype.hasOwnProperty.call(draft, key)) { return; }
      if (el.type === "checkbox") { el.checked = draft[key] === true; } else { el.value = String(draft[key]); }
    });
  }
  document.querySelectorAll("form#decide, form.escalate, form.note-form").forEach(function (form) {
    restoreDraft(form);
    form.addEventListener("input", function () { saveDraft(form); });
    form.addEventListener("change", function () { saveDraft(form); });
    form.addEventListener("submit", function () {
      try { window.sessionStorage.removeItem(draftKey(form)); } catch (e) { /* nothing kept */ }
    });
  });

  // --- The help dialog: modal, centred, focus inside, Escape or Close to leave ----------------
  var overlay = null;
  var returnFocus = null;

  function closeHelp() {
    if (!overlay) { return; }
    var dialog = overlay;
    overlay = null;
    if (dialog.open) { dialog.close(); }
    dialog.remove();
    if (returnFocus && document.contains(returnFocus)) { returnFocus.focus(); }
    returnFocus = null;
  }

  function openHelp() {
    returnFocus = document.activeElement;
    overlay = document.createElement("dialog");
    overlay.id = "shortcut-help";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "shortcut-help-title");
    var title = document.createElement("h2");
    title.id = "shortcut-help-title";
    title.textContent = "Keyboard shortcuts";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.textContent = "Close (Esc)";
    close.addEventListener("click", closeHelp);
    var rows = [["?", "show or hide this help"], ["escape", "close this help"]];
    if (document.querySelector("select.industry-class")) {
      rows.push(["1–4", "industry class A1, A2, B1, B2 of the first media item"]);
    }
    document.querySelectorAll("[data-key]").forEach(function (el) {
      rows.push([el.getAttribute("data-key"), el.getAttribute("data-help") || el.textContent.trim()]);
    });
    var table = document.createElement("table");
    var body = document.createElement("tbody");
    table.appendChild(body);
    rows.forEach(function (row) {
      var tr = body.insertRow();
      var k = tr.insertCell(); var kbd = document.createElement("kbd"); kbd.textContent = row[0]; k.appendChild(kbd);
      tr.insertCell().textContent = row[1];
    });
    overlay.appendChild(title);
    overlay.appendChild(close);
    overlay.appendChild(table);
    // Escape (the dialog's own cancel) closes it the same way as the button.
    overlay.addEventListener("cancel", function (event) { event.preventDefault(); closeHelp(); });
    document.body.appendChild(overlay);
    overlay.showModal();
    close.focus();
  }

  function toggleHelp() { if (overlay) { closeHelp(); } else { openHelp(); } }

  // --- Keys -----------------------------------------------------------------------------------
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

  document.addEventListener("keydown", function (event) {
    var key = chord(event);
    if (!key) { return; }
    var inText = typing(event.target);
    if (!inText && (key === "?" || (key === "/" && event.shiftKey))) { event.preventDefault(); toggleHelp(); return; }
    if (overlay) {
      // While the help is open, no shortcut acts on the page behind it.
      if (key === "escape") { event.preventDefault(); closeHelp(); }
      return;
    }
    if (inText && key.indexOf("ctrl+") !== 0) { return; }
    if (!inText && /^[1-4]$/.test(key)) {
      var select = document.querySelector("select.industry-class");
      if (select) {
        select.selectedIndex = Number(key);
        select.dispatchEvent(new Event("change", { bubbles: true }));
        event.preventDefault();
      }
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
