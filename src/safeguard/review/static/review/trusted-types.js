// Safeguard console: the one Trusted Types policy the pages allow ("default"), for htmx only.
//
// The Content-Security-Policy requires Trusted Types for every DOM sink that turns a string into
// markup or script. htmx 2 turns each fragment the server sends into nodes with
// Document.parseHTMLUnsafe (or DOMParser.parseFromString where that is missing), and has no
// option to pass a policy of its own, so the browser asks the "default" policy. This policy
// lets a string through at those two parsing sinks only, and only in the shape htmx's
// makeFragment builds for a partial response (a <template> wrapper it adds itself); every other
// sink (innerHTML, outerHTML, insertAdjacentHTML, document.write, script text, script URLs,
// eval) is refused and reported, exactly as with no policy at all. Parsing into a separate
// document runs no script, and htmx is configured to drop <script> elements from what it parsed
// (allowScriptTags: false); what is left still obeys script-src 'self' once it is in the page,
// so inline handlers and inline script in a fragment never run.
// This file must run before htmx (it is loaded without `defer`, htmx with it).
(function () {
  "use strict";
  if (!window.trustedTypes || !window.trustedTypes.createPolicy) { return; }
  var PARSERS = ["Document parseHTMLUnsafe", "DOMParser parseFromString"];
  var WRAPPER = '<body><template class="internal-htmx-wrapper">';
  // Answering nothing (rather than throwing) lets the browser refuse the write as it would with
  // no policy: it throws a TypeError and reports the violation under require-trusted-types-for.
  function refuse() { return null; }
  window.trustedTypes.createPolicy("default", {
    createHTML: function (value, type, sink) {
      if (PARSERS.indexOf(sink) !== -1 && typeof value === "string" && value.indexOf(WRAPPER) === 0) {
        return value;
      }
      return refuse();
    },
    createScript: refuse,
    createScriptURL: refuse,
  });
})();
