// Helpdesk web chat widget for {{ account.tenant.name|escapejs }}: a bubble that opens the chat.
(function () {
  "use strict";
  if (window.__helpdeskChat) return;
  window.__helpdeskChat = true;
  var url = "{{ chat_url|escapejs }}";
  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "{{ _('Abrir el chat')|escapejs }}");
  button.textContent = "\u{1F4AC}";
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:#0f766e;color:#fff;font-size:26px;box-shadow:0 6px 20px rgba(0,0,0,.25);cursor:pointer;z-index:2147483646";
  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = url;
      frame.title = "{{ _('Chat')|escapejs }}";
      frame.style.cssText = "position:fixed;right:20px;bottom:90px;width:360px;max-width:calc(100vw - 40px);height:520px;" +
        "max-height:calc(100vh - 120px);border:0;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);z-index:2147483647;background:#fff";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
  });
  document.body.appendChild(button);
})();
