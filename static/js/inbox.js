// The column inbox: places live cards in order, counts what is new, rings, opens tickets
// beside or over the columns, keyboard moves, drag-and-drop of columns, catch-up after a drop.
(function () {
  "use strict";
  var inbox = document.getElementById("inbox");
  if (!inbox) return;
  var baseTitle = document.title;

  function columnOf(el) { return el.closest(".column"); }
  function cardsOf(col) { return col.querySelector(".cards"); }

  // --- live cards -------------------------------------------------------------------------
  function sortColumn(col) {
    var box = cardsOf(col);
    // Scheduled posts: the next to publish first; waiting: the longest wait first.
    var key = col.dataset.kind === "scheduled" ? "publish" : col.dataset.sort === "waiting" ? "waiting" : "updated";
    var cards = Array.prototype.slice.call(box.querySelectorAll(":scope > .tcard"));
    cards.sort(function (a, b) {
      var ka = Number(a.dataset[key]), kb = Number(b.dataset[key]);
      return key === "updated" ? kb - ka : ka - kb;
    });
    var more = box.querySelector(":scope > .more");
    cards.forEach(function (card) { box.insertBefore(card, more); });
    var empty = box.querySelector(".column-empty");
    if (empty && cards.length) empty.remove();
  }

  function bumpNew(colId) {
    document.querySelectorAll('[data-new-for="' + colId + '"]').forEach(function (badge) {
      badge.textContent = String(Number(badge.textContent || 0) + 1);
      badge.hidden = false;
    });
    updateTitle();
  }

  function clearNew(colId) {
    document.querySelectorAll('[data-new-for="' + colId + '"]').forEach(function (badge) {
      badge.textContent = "0";
      badge.hidden = true;
    });
    updateTitle();
  }

  function updateTitle() {
    var total = 0;
    document.querySelectorAll(".column-head .newcount").forEach(function (b) { total += Number(b.textContent || 0); });
    document.title = total ? "(" + total + ") " + baseTitle : baseTitle;
  }

  var audio = null;
  function ring() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no audio: nothing to do */ }
  }

  function notify(col, card) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var name = card.querySelector(".tcard-name");
    var preview = card.querySelector(".tcard-preview");
    var n = new Notification(col.dataset.name + ": " + (name ? name.textContent : ""), {
      body: preview ? preview.textContent : "", tag: card.id
    });
    n.onclick = function () { window.focus(); openTicket(card.dataset.number); };
  }

  // Cards a live update takes off (tickets/consumers_inbox.py drop_swap), wherever they are.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var sink = event.detail.target;
    if (!sink || sink.id !== "inbox-drop") return;
    sink.querySelectorAll("[data-drop]").forEach(function (order) {
      order.dataset.drop.split(" ").forEach(function (id) {
        var card = document.getElementById(id);
        if (card) card.remove();
      });
    });
    sink.innerHTML = "";
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.classList || !target.classList.contains("cards")) return;
    var col = columnOf(target);
    sortColumn(col);
    target.querySelectorAll('.tcard[data-alert="new"], .tcard[data-alert="ring"]').forEach(function (card) {
      var rings = card.dataset.alert === "ring";
      card.dataset.alert = "";
      card.querySelector(".unread-dot").hidden = false;
      bumpNew(col.dataset.col);
      if (rings && col.dataset.sound === "1") ring();
      if (rings && col.dataset.notify === "1") notify(col, card);
    });
  });

  // --- opening tickets --------------------------------------------------------------------
  var pane = document.getElementById("ticket-pane");
  function openTicket(number) {
    htmx.ajax("GET", "/tickets/" + number + "/", { target: "#ticket-pane-body", swap: "innerHTML" });
    pane.hidden = false;
    inbox.classList.add("pane-open");
  }
  function closePane() {
    pane.hidden = true;
    inbox.classList.remove("pane-open");
    document.getElementById("ticket-pane-body").innerHTML = "";
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-open-ticket]");
    if (link && inbox.contains(link) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      var card = link.closest(".tcard");
      if (card) card.querySelector(".unread-dot") && (card.querySelector(".unread-dot").hidden = true);
      document.querySelectorAll(".tcard.selected").forEach(function (c) { c.classList.remove("selected"); });
      if (card) card.classList.add("selected");
      openTicket(link.dataset.openTicket);
      return;
    }
    if (event.target.closest("[data-close-pane]")) { closePane(); return; }
    var jump = event.target.closest("[data-jump]");
    if (jump) {
      event.preventDefault();
      var col = document.getElementById("col-" + jump.dataset.jump);
      col.scrollIntoView({ behavior: "smooth", inline: "start", block: "nearest" });
      clearNew(jump.dataset.jump);
      var first = col.querySelector(".tcard a");
      if (first) first.focus();
    }
    var head = event.target.closest(".column-head");
    if (head) clearNew(columnOf(head).dataset.col);
  });

  // --- keyboard: j/k cards, h/l columns, Enter opens, Escape closes ------------------------
  // Escape in the open ticket's composer closes the ticket when nothing is written, and asks
  // first when something is (the quick-reply list, when open, takes the Escape before this).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || pane.hidden) return;
    var area = event.target;
    if (area.id !== "composer-text" || !pane.contains(area)) return;
    if (area.value.trim() && !window.confirm(pane.dataset.confirmDiscard)) return;
    closePane();
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && !pane.hidden) { closePane(); return; }
    var links = Array.prototype.slice.call(document.querySelectorAll("#columns .tcard-link"));
    if (!links.length) return;
    var current = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".tcard-link") : null;
    var i = links.indexOf(current);
    var next = null;
    if (event.key === "j" || event.key === "ArrowDown") next = links[Math.min(links.length - 1, i + 1)];
    if (event.key === "k" || event.key === "ArrowUp") next = links[Math.max(0, i - 1)];
    if (event.key === "l" || event.key === "h") {
      var cols = Array.prototype.slice.call(document.querySelectorAll("#columns .column"));
      var ci = current ? cols.indexOf(columnOf(current)) : -1;
      var target = cols[Math.max(0, Math.min(cols.length - 1, ci + (event.key === "l" ? 1 : -1)))];
      next = target ? target.querySelector(".tcard-link") : null;
    }
    if (next) { event.preventDefault(); next.focus(); next.scrollIntoView({ block: "nearest", inline: "nearest" }); }
  });

  // --- drag and drop of columns (the column menu has the keyboard alternative) ------------
  var dragged = null;
  var columns = document.getElementById("columns");
  columns.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".column");
    if (dragged) { dragged.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; }
  });
  columns.addEventListener("dragover", function (event) {
    var over = event.target.closest(".column");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    var rect = over.getBoundingClientRect();
    columns.insertBefore(dragged, event.clientX < rect.left + rect.width / 2 ? over : over.nextSibling);
  });
  columns.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    var order = Array.prototype.map.call(columns.querySelectorAll(".column"), function (c) { return Number(c.dataset.col); });
    htmx.ajax("POST", columns.dataset.reorderUrl, { values: { order: JSON.stringify(order) }, swap: "none" });
  });

  // --- phones: one column at a time, a switcher and the column list behind a button -------
  var switcher = document.getElementById("column-switch");
  var colsToggle = document.getElementById("mycols-toggle");
  var mycols = document.getElementById("mycols");
  if (switcher) {
    switcher.addEventListener("change", function () {
      var col = document.getElementById("col-" + switcher.value);
      if (col) { col.scrollIntoView({ inline: "start", block: "nearest" }); clearNew(switcher.value); }
    });
    // A swipe moves the columns (scroll snapping): the switcher follows the column in view.
    var settle = null;
    columns.addEventListener("scroll", function () {
      clearTimeout(settle);
      settle = setTimeout(function () {
        var left = columns.getBoundingClientRect().left, best = null, bestDist = Infinity;
        columns.querySelectorAll(".column").forEach(function (c) {
          var d = Math.abs(c.getBoundingClientRect().left - left);
          if (d < bestDist) { bestDist = d; best = c; }
        });
        if (best && switcher.value !== best.dataset.col) switcher.value = best.dataset.col;
      }, 120);
    }, { passive: true });
  }
  if (colsToggle && mycols) {
    colsToggle.addEventListener("click", function () {
      var open = mycols.classList.toggle("open");
      colsToggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    mycols.addEventListener("click", function (event) {
      if (event.target.closest("[data-jump]")) {
        mycols.classList.remove("open");
        colsToggle.setAttribute("aria-expanded", "false");
      }
    });
  }

  // --- the column list collapses to a thin bar (remembered in this browser) ----------------
  var collapse = document.getElementById("mycols-collapse");
  function setCollapsed(on) {
    mycols.classList.toggle("collapsed", on);
    collapse.setAttribute("aria-expanded", on ? "false" : "true");
    var label = on ? collapse.dataset.labelExpand : collapse.dataset.labelCollapse;
    collapse.title = label;
    collapse.setAttribute("aria-label", label);
    collapse.textContent = on ? "»" : "«";
  }
  if (collapse && mycols) {
    try { setCollapsed(localStorage.getItem("inbox.mycols") === "collapsed"); } catch (e) { /* private mode */ }
    collapse.addEventListener("click", function () {
      var on = !mycols.classList.contains("collapsed");
      setCollapsed(on);
      try { localStorage.setItem("inbox.mycols", on ? "collapsed" : "open"); } catch (e) { /* private mode */ }
    });
  }

  // --- waiting times tick -----------------------------------------------------------------
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".tcard .wait[data-since]").forEach(function (el) {
      // As tickets/cards.py wait_label writes it.
      var minutes = Math.max(0, Math.floor((now - Number(el.dataset.since)) / 60));
      var hours = Math.floor(minutes / 60);
      el.textContent = minutes < 60 ? minutes + " min"
        : hours < 24 ? hours + " h " + (minutes % 60) + " min"
        : Math.floor(hours / 24) + " d " + (hours % 24) + " h";
    });
  }
  tick();
  setInterval(tick, 30000);

  // --- desktop notifications need a clear prompt ------------------------------------------
  var permission = document.getElementById("notify-permission");
  if ("Notification" in window && Notification.permission === "default" && document.querySelector('.column[data-notify="1"]')) {
    permission.hidden = false;
    permission.addEventListener("click", function () {
      Notification.requestPermission().then(function () { permission.hidden = true; });
    });
  }

  // --- after a dropped connection, catch up: re-render the columns and my counters ---------
  var dropped = false;
  document.addEventListener("htmx:wsClose", function () { dropped = true; });
  document.addEventListener("htmx:wsOpen", function () {
    if (!dropped) return;
    dropped = false;
    htmx.ajax("GET", "/inbox/", { target: "#columns", select: "#columns", swap: "outerHTML" });
    htmx.ajax("GET", "/inbox/", { target: ".metrics", select: ".metrics", swap: "outerHTML" });
  });
})();
