// The visitor's chat window: newest message in view, Enter sends, typing is announced.
(function () {
  "use strict";
  function scrollDown() {
    var thread = document.getElementById("chat-thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  // A message can arrive twice: in the answer to the visitor's send (the whole thread, with
  // the bot's reply made in the same request) and live over the socket. Keep the first copy.
  function dedupe() {
    var seen = {};
    document.querySelectorAll("#chat-thread .cmsg[id]").forEach(function (m) {
      if (seen[m.id]) m.remove(); else seen[m.id] = true;
    });
  }
  document.addEventListener("DOMContentLoaded", scrollDown);
  document.addEventListener("htmx:oobAfterSwap", function () { dedupe(); scrollDown(); });
  document.addEventListener("htmx:afterSwap", function () { dedupe(); scrollDown(); var t = document.getElementById("chat-text"); if (t) t.focus(); });
  var last = 0;
  document.addEventListener("input", function (event) {
    if (event.target.id !== "chat-text") return;
    var now = Date.now();
    if (now - last > 3000) { last = now; document.body.dispatchEvent(new CustomEvent("typing")); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.target.id === "chat-text" && event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });
})();
