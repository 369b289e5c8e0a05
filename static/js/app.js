// The shell's small behaviours. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";

  // Connection indicator: driven by the htmx ws extension's events, which also reconnects
  // by itself (with backoff) after a drop.
  function setConnection(state) {
    var el = document.getElementById("conn-status");
    if (!el) return;
    el.dataset.state = state;
    var label = el.querySelector(".conn-label");
    if (label) label.textContent = el.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)] || state;
  }

  document.addEventListener("htmx:wsOpen", function () { setConnection("connected"); });
  document.addEventListener("htmx:wsClose", function () {
    setConnection(navigator.onLine ? "reconnecting" : "offline");
  });
  document.addEventListener("htmx:wsError", function () {
    setConnection(navigator.onLine ? "reconnecting" : "offline");
  });
  window.addEventListener("offline", function () { setConnection("offline"); });
  window.addEventListener("online", function () { setConnection("reconnecting"); });

  // Close an open dropdown when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      d.removeAttribute("open");
      var s = d.querySelector("summary");
      if (s) s.focus();
    });
  });
})();
