// Safeguard console: live regions, the P0 sound and the browser's time zone. No framework, no build.
//
// - Live regions (the P0 banner, the queues table, a case's status) are polled by htmx. Each
//   fragment carries a digest of what it shows (data-version); every poll sends it back as `v`,
//   and the server answers 204 (nothing swapped) while nothing changed.
// - A new P0 in the banner plays the sound the person chose in their preferences (body
//   data-p0-sound: none, chime, beep or siren), made here with the Web Audio API. Browsers let a
//   page make sound only after the person has interacted with it; until then the banner offers a
//   button that allows it. Which P0 was last heard is kept for this tab only (sessionStorage, the
//   opening time of the newest P0, no case id), so moving between pages does not replay it.
// - The browser's IANA time zone goes into the `sg_tz` cookie; the server shows times in it
//   unless the person chose a zone in their preferences (accounts.timezones).
(function () {
  "use strict";

  // --- The browser's time zone -------------------------------------------------------------
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
      var current = document.cookie.split("; ").filter(function (c) { return c.indexOf("sg_tz=") === 0; })[0];
      if (current !== "sg_tz=" + zone) {
        document.cookie = "sg_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
          (location.protocol === "https:" ? "; Secure" : "");
      }
    }
  } catch (e) { /* no Intl time zone: the server shows UTC */ }

  // --- Live regions: send back the version the region shows --------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.classList || !elt.classList.contains("live-region")) { return; }
    var shown = elt.querySelector(".live-version[data-version]");
    if (shown) { event.detail.parameters.v = shown.getAttribute("data-version"); }
  });

  // --- Sounds (Web Audio; no sound file ships with Safeguard) ------------------------------
  var audio = null;
  function context() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return null; }
    if (!audio) { audio = new Ctx(); }
    return audio;
  }

  function tone(ctx, type, freq, start, length, peak) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = type;
    osc.frequency.setValueAtTime(freq, start);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(peak, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(start);
    osc.stop(start + length + 0.05);
    return osc;
  }

  var SOUNDS = {
    chime: function (ctx, t) {
      tone(ctx, "sine", 880, t, 0.6, 0.3);
      tone(ctx, "sine", 1318.5, t + 0.25, 0.8, 0.25);
    },
    beep: function (ctx, t) {
      for (var i = 0; i < 3; i++) { tone(ctx, "square", 1000, t + i * 0.25, 0.15, 0.12); }
    },
    siren: function (ctx, t) {
      var osc = tone(ctx, "sawtooth", 600, t, 2.4, 0.12);
      for (var i = 0; i < 2; i++) {
        osc.frequency.linearRampToValueAtTime(1200, t + i * 1.2 + 0.6);
        osc.frequency.linearRampToValueAtTime(600, t + i * 1.2 + 1.2);
      }
    },
  };

  // Plays `name`; answers "played", "blocked" (the browser wants an interaction first),
  // "unsupported" or "none".
  function play(name) {
    if (!SOUNDS[name]) { return "none"; }
    var ctx = context();
    if (!ctx) { return "unsupported"; }
    if (ctx.state !== "running") {
      ctx.resume();
      if (ctx.state !== "running") { return "blocked"; }
    }
    SOUNDS[name](ctx, ctx.currentTime + 0.02);
    return "played";
  }

  // The first interaction with the page allows sound from then on.
  var pending = null;
  function unlock() {
    var ctx = context();
    if (!ctx) { return; }
    ctx.resume().then(function () {
      if (pending) { play(pending); pending = null; removeAllowButton(); }
    });
  }
  document.addEventListener("pointerdown", unlock, { once: true, capture: true });
  document.addEventListener("keydown", unlock, { once: true, capture: true });

  function removeAllowButton() {
    var old = document.getElementById("allow-sound");
    if (old) { old.remove(); }
  }

  function offerAllowButton(region, name) {
    removeAllowButton();
    var button = document.createElement("button");
    button.type = "button";
    button.id = "allow-sound";
    button.textContent = "Play the P0 sound (your browser held it back)";
    button.addEventListener("click", function () {
      var ctx = context();
      if (ctx) { ctx.resume().then(function () { play(name); }); }
      pending = null;
      button.remove();
    });
    var banner = region.querySelector(".p0-banner") || region;
    banner.appendChild(button);
  }

  var HEARD = "sg_p0_heard";
  function heard() {
    try { return sessionStorage.getItem(HEARD) || ""; } catch (e) { return ""; }
  }
  function markHeard(value) {
    try { sessionStorage.setItem(HEARD, value); } catch (e) { /* storage refused: may replay */ }
  }

  function bannerChanged(region) {
    var shown = region.querySelector(".live-version");
    if (!shown) { return; }
    var newest = shown.getAttribute("data-p0-newest") || "";
    document.body.classList.toggle("p0-waiting", newest !== "");
    if (!newest || Date.parse(newest) <= Date.parse(heard() || "1970-01-01T00:00:00Z")) { return; }
    markHeard(newest);
    var name = document.body.getAttribute("data-p0-sound") || "none";
    var outcome = play(name);
    region.setAttribute("data-sound", outcome);
    if (outcome === "blocked") {
      pending = name;
      offerAllowButton(region, name);
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "live-banner") { bannerChanged(target); }
  });

  // --- Preferences: try a sound before choosing it -----------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-sound-test]");
    if (!button) { return; }
    var select = document.getElementById(button.getAttribute("data-sound-test"));
    var name = select ? select.value : "none";
    var ctx = context();
    if (ctx) { ctx.resume().then(function () { play(name); }); }
  });
})();
