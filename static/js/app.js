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

  // Forms that destroy something ask first: <form data-confirm="¿Eliminar…?">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

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

// The ticket page: composer helpers. Event delegation, so swapped-in content works too.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }

  // Assignee select: posts as soon as it changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) el.form.requestSubmit();
    if (el.matches && el.matches("input[data-files]")) {
      var names = Array.prototype.map.call(el.files, function (f) { return f.name; });
      var label = el.closest("form").querySelector(".files-chosen");
      if (label) label.textContent = names.join(", ");
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    var reply = target.closest("[data-reply-to]");
    if (reply && composer()) {
      var form = composer();
      form.querySelector("input[name=reply_to]").value = reply.dataset.replyTo;
      var bar = form.querySelector(".reply-to");
      bar.querySelector("q").textContent = reply.dataset.replyText;
      bar.hidden = false;
      form.querySelector("textarea").focus();
      return;
    }
    if (target.closest("[data-clear-reply]") && composer()) {
      composer().querySelector("input[name=reply_to]").value = "";
      composer().querySelector(".reply-to").hidden = true;
      return;
    }
    var emoji = target.closest("[data-emoji]");
    if (emoji && composer()) {
      insertAtCaret(composer().querySelector("textarea"), emoji.dataset.emoji);
      return;
    }
    var quick = target.closest(".quick-item");
    if (quick && composer()) {
      var area = composer().querySelector("textarea");
      area.value = quick.dataset.body;
      document.getElementById("quick-replies").innerHTML = "";
      area.focus();
    }
  });

  function insertAtCaret(area, text) {
    var start = area.selectionStart || 0, end = area.selectionEnd || 0;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.focus();
  }

  var lastTyping = 0;
  document.addEventListener("input", function (event) {
    var area = event.target;
    if (area.id !== "composer-text") return;
    // "/" at the start asks for quick replies.
    var box = document.getElementById("quick-replies");
    if (area.value.charAt(0) === "/" && area.value.indexOf("\n") === -1) {
      htmx.ajax("GET", area.dataset.quickUrl + "?text=" + encodeURIComponent(area.value), { target: box });
    } else if (box) {
      box.innerHTML = "";
    }
    // Tell the others someone is typing, at most every 3 seconds.
    var now = Date.now();
    if (now - lastTyping > 3000) {
      lastTyping = now;
      document.body.dispatchEvent(new CustomEvent("typing"));
    }
  });

  // Ctrl+Enter (or Cmd+Enter) sends.
  document.addEventListener("keydown", function (event) {
    if (event.target.id === "composer-text" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // Keep the conversation scrolled to the newest message when one arrives.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var thread = document.getElementById("thread");
    if (thread && event.detail.target === thread) thread.scrollTop = thread.scrollHeight;
  });
  document.addEventListener("DOMContentLoaded", function () {
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  });
})();

// Administration: rows edited in a form (Django formsets, e.g. business hours). A button
// [data-rows-add="<prefix>"] appends a copy of <template id="<prefix>-template"> to
// #<prefix>-rows and counts it in <prefix>-TOTAL_FORMS; a [data-row-remove] checkbox dims
// its row (the server drops it on save).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-rows-add]") : null;
    if (!button) return;
    var prefix = button.dataset.rowsAdd;
    var form = button.closest("form");
    var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var template = document.getElementById(prefix + "-template");
    var rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return;
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, total.value));
    total.value = String(Number(total.value) + 1);
    var first = rows.lastElementChild && rows.lastElementChild.querySelector("select, input");
    if (first) first.focus();
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("[data-row-remove]")) {
      box.closest("tr").classList.toggle("removed", box.checked);
    }
  });
})();

// Assignment matrix (admin_config/assignments.html): whole-row and whole-column selects,
// changed cells marked and counted, and only the changed cells sent, so a big matrix stays
// under the server's limit of fields per request. Without script every cell is sent.
(function () {
  "use strict";

  function markCell(select) {
    var td = select.parentElement;
    td.dataset.mode = select.value;
    td.classList.toggle("changed", select.value !== select.dataset.initial);
  }

  function countPending(form) {
    var el = form.querySelector("[data-matrix-pending]");
    if (!el) return;
    var n = form.querySelectorAll("td.changed").length;
    el.textContent = n === 0 ? "" : n === 1 ? el.dataset.one : el.dataset.many.replace("%(n)s", n);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-matrix] select[data-bulk]").forEach(function (s) {
      s.hidden = false;
    });
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el.closest ? el.closest("form[data-matrix]") : null;
    if (!form || el.tagName !== "SELECT") return;
    if (el.dataset.bulk) {
      if (!el.value) return;
      var attr = el.dataset.bulk === "col" ? "data-col" : "data-row";
      form.querySelectorAll("select[" + attr + '="' + el.dataset.key + '"]').forEach(function (cell) {
        cell.value = el.value;
        markCell(cell);
      });
      el.value = "";
    } else if (el.dataset.initial !== undefined) {
      markCell(el);
    }
    countPending(form);
  });

  document.addEventListener("formdata", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-matrix]")) return;
    form.querySelectorAll("select[data-initial]").forEach(function (s) {
      if (s.value === s.dataset.initial) event.formData.delete(s.name);
    });
  }, true);
})();
