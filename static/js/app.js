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
    var copy = target.closest("[data-copy-link]");
    if (copy) {
      // The message's own address, to paste in a comment, a chat or an escalation.
      var url = window.location.origin + copy.dataset.copyLink;
      var done = function () { copy.textContent = copy.dataset.copied; };
      if (navigator.clipboard) navigator.clipboard.writeText(url).then(done, done);
      copy.dataset.url = url;
      return;
    }
    var reply = target.closest("[data-reply-to]");
    if (reply && composer()) {
      var form = composer();
      // «Responder en privado» from a public comment's menu: Meta's private reply.
      var visibility = form.querySelector("[data-visibility]");
      if (visibility && reply.hasAttribute("data-reply-private")) visibility.value = "private";
      var menu = reply.closest("details.dropdown");
      if (menu) menu.removeAttribute("open");
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
    if (quick && composer()) pickQuick(quick);
  });

  // «Responder en privado» only where the composer can answer privately (Facebook, Instagram).
  if (window.htmx) htmx.onLoad(function () {
    var canPrivate = composer() && composer().querySelector("[data-visibility]");
    document.querySelectorAll("[data-reply-private]").forEach(function (item) {
      item.hidden = !canPrivate;
    });
  });

  function insertAtCaret(area, text) {
    var start = area.selectionStart || 0, end = area.selectionEnd || 0;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.focus();
  }

  // "/" quick replies: asked for once the agent pauses (not on every key), chosen with the
  // arrows and Enter, closed with Escape.
  var lastTyping = 0, quickTimer = null;
  function quickBox() { return document.getElementById("quick-replies"); }
  function quickItems() {
    var box = quickBox();
    return box ? Array.prototype.slice.call(box.querySelectorAll(".quick-item")) : [];
  }
  function closeQuick() {
    clearTimeout(quickTimer);
    var box = quickBox();
    if (box) box.innerHTML = "";
  }
  function pickQuick(item) {
    var area = composer().querySelector("textarea");
    area.value = item.dataset.body;
    closeQuick();
    area.focus();
  }
  document.addEventListener("input", function (event) {
    var area = event.target;
    if (area.id !== "composer-text") return;
    var box = quickBox();
    clearTimeout(quickTimer);
    if (area.value.charAt(0) === "/" && area.value.indexOf("\n") === -1) {
      quickTimer = setTimeout(function () {
        htmx.ajax("GET", area.dataset.quickUrl + "?text=" + encodeURIComponent(area.value), { target: box });
      }, 200);
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

  // Ctrl+Enter (or Cmd+Enter) sends; with the quick replies open, the arrows move through
  // them, Enter takes the highlighted one and Escape closes the list.
  document.addEventListener("keydown", function (event) {
    if (event.target.id !== "composer-text") return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    var items = quickItems();
    if (!items.length) return;
    var current = items.findIndex(function (i) { return i.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = event.key === "ArrowDown" ? Math.min(items.length - 1, current + 1) : Math.max(0, current - 1);
      items.forEach(function (item, n) {
        item.classList.toggle("active", n === next);
        item.setAttribute("aria-selected", n === next ? "true" : "false");
      });
      items[next].scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      pickQuick(items[Math.max(0, current)]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeQuick();
    }
  });

  // The side tabs: the tab whose panel is shown is the one marked, whichever way it came.
  document.addEventListener("htmx:afterSwap", function () {
    var panel = document.getElementById("tabpanel");
    if (!panel) return;
    document.querySelectorAll(".ticket-side .tabs [data-tab]").forEach(function (tab) {
      var on = tab.dataset.tab === panel.dataset.tab;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    });
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

// WhatsApp templates (composer and new ticket): show the chosen template's parameters, fill
// its preview as the agent types, and on the new-ticket page show the template picker or the
// free text depending on the account's channel. Without script every template shows its inputs.
(function () {
  "use strict";

  function fillPreview(fieldset) {
    var preview = fieldset.querySelector("[data-wa-body]");
    if (!preview) return;
    var values = {};
    fieldset.querySelectorAll("input[data-wa-param]").forEach(function (input) {
      values[input.dataset.waParam] = input.value.trim();
    });
    preview.textContent = preview.dataset.waBody.replace(/\{\{\s*(\d+)\s*\}\}/g, function (all, n) {
      return values[n] || all;
    });
  }

  function showChosen(picker) {
    var select = picker.querySelector("select[data-wa-template]");
    if (!select) return;
    picker.querySelectorAll("[data-wa-params]").forEach(function (fieldset) {
      var on = fieldset.dataset.waParams === select.value;
      fieldset.hidden = !on;
      fieldset.disabled = !on;
    });
  }

  function filterByAccount(form) {
    var account = form.querySelector("select[data-new-account]");
    if (!account) return;
    var option = account.options[account.selectedIndex];
    var kind = option ? option.dataset.kind || "" : "";
    form.querySelectorAll("[data-when-kind]").forEach(function (block) {
      var wanted = block.dataset.whenKind;
      block.hidden = wanted === "whatsapp" ? kind !== "whatsapp" : kind === "whatsapp";
    });
    var select = form.querySelector("select[data-wa-template]");
    if (!select) return;
    Array.prototype.forEach.call(select.options, function (o) {
      if (!o.value) return;
      o.hidden = o.disabled = o.dataset.account !== account.value;
    });
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) select.value = "";
    showChosen(select.closest("[data-wa-picker]"));
  }

  if (window.htmx) htmx.onLoad(function (root) {
    var scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-wa-picker]")) showChosen(scope);
    scope.querySelectorAll("[data-wa-picker]").forEach(showChosen);
    scope.querySelectorAll("form[data-new-ticket]").forEach(filterByAccount);
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el.matches) return;
    if (el.matches("select[data-wa-template]")) showChosen(el.closest("[data-wa-picker]"));
    if (el.matches("select[data-new-account]")) filterByAccount(el.form);
  });

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[data-wa-param]")) fillPreview(el.closest("[data-wa-params]"));
  });
})();

// Internal comments: an @mention picker. Typing "@" and the start of a name or handle lists
// the people (accents and case don't matter); the arrows move, Enter or Tab takes one (its
// handle, which the server recognises), Escape closes the list.
(function () {
  "use strict";

  function plain(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function listFor(area) { return document.getElementById(area.dataset.mentions); }
  function query(area) {
    var before = area.value.slice(0, area.selectionStart);
    var match = /(^|\s)@([^\s@]*)$/.exec(before);
    return match ? match[2] : null;
  }
  function shown(list) { return Array.prototype.filter.call(list.children, function (li) { return !li.hidden; }); }
  function mark(list, item) {
    Array.prototype.forEach.call(list.children, function (li) {
      li.classList.toggle("active", li === item);
      li.setAttribute("aria-selected", li === item ? "true" : "false");
    });
  }
  function close(list) { list.hidden = true; mark(list, null); }
  function take(area, item) {
    var start = area.selectionStart;
    var before = area.value.slice(0, start).replace(/@[^\s@]*$/, "@" + item.dataset.handle + " ");
    area.value = before + area.value.slice(start);
    area.selectionStart = area.selectionEnd = before.length;
    close(listFor(area));
    area.focus();
  }

  document.addEventListener("input", function (event) {
    var area = event.target;
    if (!area.dataset || !area.dataset.mentions) return;
    var list = listFor(area), q = query(area);
    if (!list) return;
    if (q === null) { close(list); return; }
    var wanted = plain(q), first = null;
    Array.prototype.forEach.call(list.children, function (li) {
      var words = li.dataset.search.split(" ");
      li.hidden = !words.some(function (w) { return plain(w).indexOf(wanted) === 0; });
      if (!li.hidden && !first) first = li;
    });
    list.hidden = !first;
    mark(list, first);
  });

  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.dataset || !area.dataset.mentions) return;
    var list = listFor(area);
    if (!list || list.hidden) return;
    var items = shown(list);
    var current = items.findIndex(function (li) { return li.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = event.key === "ArrowDown" ? Math.min(items.length - 1, current + 1) : Math.max(0, current - 1);
      mark(list, items[next]);
      items[next].scrollIntoView({ block: "nearest" });
    } else if ((event.key === "Enter" || event.key === "Tab") && items.length) {
      event.preventDefault();
      take(area, items[Math.max(0, current)]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close(list);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var item = event.target.closest ? event.target.closest(".mention-list [data-handle]") : null;
    if (!item) return;
    event.preventDefault();  // keep the focus (and the caret) in the text area
    var area = document.querySelector('[data-mentions="' + item.parentElement.id + '"]');
    if (area) take(area, item);
  });
})();
