// The visitor's chat window: newest message in view, Enter sends, typing is announced.
(function () {
  "use strict";
  function scrollDown() {
    var thread = document.getElementById("chat-thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", scrollDown);
  document.addEventListener("htmx:oobAfterSwap", scrollDown);
  document.addEventListener("htmx:afterSwap", function () { scrollDown(); var t = document.getElementById("chat-text"); if (t) t.focus(); });
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
