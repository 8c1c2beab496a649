/* MetaCRM kanban board: cards paged per column from the board API, native HTML5
   drag and drop, moves through POST /api/v1/<entity>/<id>/move (the server's stage
   gates decide; a refused move snaps the card back and says why). No libraries. */
(function () {
  "use strict";

  var configNode = document.getElementById("board-config");
  var board = document.getElementById("crm-board");
  if (!configNode || !board) { return; }
  var config = JSON.parse(configNode.textContent);
  var ui = config.ui || {};
  var csrfMeta = document.querySelector("meta[name='crm-csrf-token']");
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var alertBox = document.getElementById("board-alert");
  var statusBox = document.getElementById("board-status");
  var stages = {};
  (config.columns || []).forEach(function (c) { stages[c.stage] = c; });
  var dragging = null; // {card, from, next}
  var canMove = config.can_move !== false; // the user's role may update some records (the server still decides)

  function boardUrl(params) {
    var query = new URLSearchParams(params);
    if (config.q) { query.set("q", config.q); }
    return config.api + "/board/" + encodeURIComponent(config.pipeline) + "?" + query.toString();
  }

  function column(stage) { return board.querySelector(".crm-column[data-stage='" + CSS.escape(stage) + "']"); }
  function cardsOf(col) { return col.querySelector("[data-cards]"); }

  // -- messages -------------------------------------------------------------
  function showAlert(text) {
    alertBox.querySelector(".crm-board-alert-text").textContent = text;
    alertBox.hidden = false;
  }
  function hideAlert() { alertBox.hidden = true; }
  function showStatus(text) {
    statusBox.textContent = text;
    statusBox.classList.add("in");
    window.clearTimeout(showStatus.timer);
    showStatus.timer = window.setTimeout(function () { statusBox.classList.remove("in"); }, 2500);
  }
  alertBox.querySelector("[data-board-dismiss]").addEventListener("click", hideAlert);

  function messageOf(body, status) {
    var message = body && body.message;
    if (message && typeof message === "object") {
      var parts = [];
      if (message.stage) { parts = parts.concat(message.stage); }
      if (!parts.length) {
        Object.keys(message).forEach(function (key) { parts = parts.concat(message[key]); });
      }
      if (parts.length) { return parts.join(" "); }
    } else if (message) {
      return String(message);
    }
    return (ui.failed || "The move failed ({status}).").replace("{status}", status);
  }

  // -- cards ------------------------------------------------------------------
  function renderCard(card) {
    var el = document.createElement("article");
    el.className = "crm-card";
    el.draggable = canMove;
    el.dataset.id = card.id;
    el.dataset.changedOn = card.changed_on || "";
    el.dataset.version = card.version == null ? "" : String(card.version);
    var title = document.createElement("a");
    title.className = "crm-card-title";
    title.href = card.url;
    title.draggable = false;
    title.textContent = card.title;
    el.appendChild(title);
    var fields = (card.fields || []).filter(function (f) { return f[1] !== ""; });
    if (fields.length) {
      var list = document.createElement("dl");
      list.className = "crm-card-fields";
      fields.forEach(function (f) {
        var dt = document.createElement("dt");
        dt.textContent = f[0];
        var dd = document.createElement("dd");
        dd.textContent = f[1];
        dd.title = f[0] + (ui.colon || ": ") + f[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      el.appendChild(list);
    }
    if (!canMove) { el.classList.add("crm-card-static"); }
    el.addEventListener("dragstart", onDragStart);
    el.addEventListener("dragend", onDragEnd);
    return el;
  }

  function refreshEmpty(col) {
    var empty = col.querySelector("[data-empty]");
    var loading = !col.querySelector("[data-loading]").hidden;
    empty.hidden = loading || cardsOf(col).children.length > 0;
  }

  function loadCards(col) {
    var stage = col.dataset.stage;
    var holder = cardsOf(col);
    var more = col.querySelector("[data-more]");
    var loading = col.querySelector("[data-loading]");
    // Offset = cards shown: a card moved in (newest change) sits first, one moved out left a gap.
    var offset = holder.children.length;
    more.disabled = true;
    loading.hidden = false;
    refreshEmpty(col);
    return fetch(boardUrl({stage: stage, offset: offset}), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, status: response.status, body: body}; });
      })
      .then(function (res) {
        loading.hidden = true;
        if (!res.ok) { showAlert(messageOf(res.body, res.status)); return; }
        res.body.cards.forEach(function (card) {
          if (!board.querySelector(".crm-card[data-id='" + card.id + "']")) { holder.appendChild(renderCard(card)); }
        });
        more.hidden = !res.body.more;
        more.disabled = false;
        refreshEmpty(col);
      })
      .catch(function () {
        loading.hidden = true;
        more.disabled = false;
        refreshEmpty(col);
        showAlert(ui.network || "The server could not be reached.");
      });
  }

  // -- column headers -----------------------------------------------------------
  function setText(root, selector, text) {
    var el = root.querySelector(selector);
    if (el) { el.textContent = text; }
  }

  function refreshHeaders() {
    return fetch(boardUrl({}), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (summary) {
        if (!summary) { return; }
        summary.columns.forEach(function (c) {
          var col = column(c.stage);
          if (!col) { return; }
          setText(col, "[data-count]", String(c.count));
          if (summary.with_amount) {
            setText(col, "[data-amount]", c.amount_text);
            setText(col, "[data-weighted]", c.weighted_text);
          }
        });
        setText(document, "#board-total-count", summary.count + " " + (ui.records || ""));
        if (summary.with_amount) {
          setText(document, "#board-total-amount", summary.amount_text);
          setText(document, "#board-total-weighted", summary.weighted_text);
        }
      })
      .catch(function () { /* headers stay as they were; the next move refreshes them */ });
  }

  // -- drag and drop ---------------------------------------------------------------
  function onDragStart(event) {
    var card = event.currentTarget;
    dragging = {card: card, from: card.closest(".crm-column"), next: card.nextElementSibling};
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("crm-card-dragging");
    board.classList.add("crm-board-dragging");
    board.querySelectorAll(".crm-column").forEach(function (col) {
      if (canDrop(dragging.from, col)) { col.classList.add("crm-column-allowed"); }
    });
  }

  // The server lists, per column, the stages this user may move a card into from it
  // (next, per-transition roles, stage roles); a forbidden column is no drop target.
  function canDrop(from, col) {
    if (col === from) { return false; }
    var allowed = stages[from.dataset.stage] ? stages[from.dataset.stage].next : null;
    return allowed === null || allowed === undefined || allowed.indexOf(col.dataset.stage) >= 0;
  }

  function clearDragMarks() {
    board.classList.remove("crm-board-dragging");
    board.querySelectorAll(".crm-column").forEach(function (col) {
      col.classList.remove("crm-column-allowed", "crm-column-over");
    });
  }

  function onDragEnd(event) {
    event.currentTarget.classList.remove("crm-card-dragging");
    clearDragMarks();
  }

  function snapBack(move) {
    var holder = cardsOf(move.from);
    if (move.next && move.next.parentNode === holder) { holder.insertBefore(move.card, move.next); }
    else { holder.appendChild(move.card); }
    refreshEmpty(move.from);
    refreshEmpty(move.to);
  }

  function moveCard(move) {
    var card = move.card;
    hideAlert();
    card.classList.add("crm-card-saving");
    card.draggable = false;
    var body = JSON.stringify({stage: move.to.dataset.stage, changed_on: card.dataset.changedOn || null,
                               version: card.dataset.version ? Number(card.dataset.version) : null});
    fetch(config.api + "/" + encodeURIComponent(card.dataset.id) + "/move", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken},
      body: body
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; })
          .then(function (data) { return {ok: response.ok, status: response.status, body: data}; });
      })
      .then(function (res) {
        card.classList.remove("crm-card-saving");
        card.draggable = true;
        if (res.ok) {
          var result = res.body.result || {};
          if (result.changed_on) { card.dataset.changedOn = result.changed_on; }
          if (result.version != null) { card.dataset.version = String(result.version); }
          card.classList.add("crm-card-moved");
          window.setTimeout(function () { card.classList.remove("crm-card-moved"); }, 1200);
          var label = stages[move.to.dataset.stage] ? stages[move.to.dataset.stage].label : move.to.dataset.stage;
          showStatus((ui.moved || "Moved to {stage}.").replace("{stage}", label));
          refreshHeaders();
        } else {
          snapBack(move);
          showAlert(messageOf(res.body, res.status));
        }
      })
      .catch(function () {
        card.classList.remove("crm-card-saving");
        card.draggable = true;
        snapBack(move);
        showAlert(ui.network || "The server could not be reached.");
      });
  }

  board.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var col = zone.closest(".crm-column");
    col.addEventListener("dragover", function (event) {
      if (!dragging || !canDrop(dragging.from, col)) { return; } // no drop offered: the browser refuses it
      event.preventDefault(); // the server still decides
      event.dataTransfer.dropEffect = "move";
      col.classList.add("crm-column-over");
    });
    col.addEventListener("dragleave", function (event) {
      if (!col.contains(event.relatedTarget)) { col.classList.remove("crm-column-over"); }
    });
    col.addEventListener("drop", function (event) {
      event.preventDefault();
      var move = dragging;
      dragging = null;
      clearDragMarks();
      if (!move || !canDrop(move.from, col)) { return; }
      move.to = col;
      move.card.classList.remove("crm-card-dragging");
      var holder = cardsOf(col);
      holder.insertBefore(move.card, holder.firstChild); // newest change first, like the server
      refreshEmpty(col);
      refreshEmpty(move.from);
      moveCard(move);
    });
  });

  board.querySelectorAll(".crm-column").forEach(function (col) {
    col.querySelector("[data-more]").addEventListener("click", function () { loadCards(col); });
    loadCards(col);
  });
})();
