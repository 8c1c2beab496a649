// A dashboard page arrives with a titled box per chart; this asks each chart's JSON
// endpoint at once (in parallel) and draws each answer as it comes: a plotly figure
// (plotly.js served by this server, loaded after this file), a KPI, a table, or the
// note saying why the viewer does not see it. A chart that fails says so in its own
// box; the others still draw. Clicking a bar or slice opens the list of its records.
(function () {
  "use strict";
  var grid = document.getElementById("crm-dashboard");
  var uiBlock = document.getElementById("crm-dashboard-ui");
  if (!grid || !uiBlock) { return; }
  var ui = JSON.parse(uiBlock.textContent || "{}");
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]};
  var words = document.getElementById("crm-plotly-locale");  // the mode bar in the page's language
  if (words) {
    var locale = JSON.parse(words.textContent || "{}");
    config.locale = locale.locale;
    config.locales = {}; config.locales[locale.locale] = {dictionary: locale.dictionary || {}};
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function whenPlotly(callback) {
    if (typeof window.Plotly !== "undefined") { callback(); return; }
    var script = document.getElementById("crm-plotly");
    if (script) { script.addEventListener("load", callback); }
  }

  function finish(box, state) {
    box.setAttribute("data-state", state);
    box.removeAttribute("aria-busy");
  }

  function note(body, className, icon, text) {
    var p = el("p", "text-muted " + className);
    if (icon) { p.appendChild(el("i", "fa " + icon)); p.appendChild(document.createTextNode(" ")); }
    p.appendChild(document.createTextNode(text));
    body.appendChild(p);
  }

  function kpi(body, card) {
    var wrap = el("div", "crm-kpi");
    var value = el(card.link ? "a" : "span", "crm-kpi-value", card.kpi.value);
    if (card.link) { value.href = card.link; }
    if (card.kpi.exact && card.kpi.exact !== card.kpi.value) { value.title = card.kpi.exact; }  // ¥350万: ¥3,500,000.00
    wrap.appendChild(value);
    var change = card.kpi.change;
    if (change) {
      var trend = change.charAt(0) === "+" ? " up" : (change.charAt(0) === "-" ? " down" : "");
      var line = el("div", "crm-kpi-change" + trend, change + " ");
      line.appendChild(el("small", "text-muted", ui.previous));
      wrap.appendChild(line);
    }
    body.appendChild(wrap);
  }

  function table(body, data) {
    var wrap = el("div", "table-responsive crm-chart-table");
    var tab = el("table", "table table-condensed table-striped");
    var head = el("tr");
    data.columns.forEach(function (h) { head.appendChild(el("th", null, h)); });
    tab.appendChild(el("thead")).appendChild(head);
    var rows = tab.appendChild(el("tbody"));
    data.rows.forEach(function (row) {
      var tr = rows.appendChild(el("tr"));
      row.forEach(function (cell) { tr.appendChild(el("td", null, cell)); });
    });
    wrap.appendChild(tab);
    body.appendChild(wrap);
  }

  function plot(body, card, box) {
    var target = el("div", "crm-plot");
    target.id = "plot-" + card.name;
    body.appendChild(target);
    whenPlotly(function () {
      var layout = Object.assign({margin: {l: 50, r: 20, t: 10, b: 50}, height: 320, autosize: true},
                                 card.figure.layout || {});
      window.Plotly.newPlot(target, card.figure.data || [], layout, config).then(function () {
        target.setAttribute("data-drawn", "1");
        finish(box, "drawn");
      });
      target.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        if (!point) { return; }
        var index = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
        var link = card.links && card.links[index];
        if (link) { window.location.href = link; }
      });
    });
  }

  function draw(box, card) {
    var body = box.querySelector(".panel-body");
    body.textContent = "";
    var drawing = false;
    if (card.omitted) {
      note(body, "crm-chart-omitted", "fa-eye-slash", card.omitted);
    } else if (card.kpi) {
      kpi(body, card);
    } else if (card.empty) {
      note(body, "crm-chart-empty", null, ui.no_data);
    } else {
      if (card.figure) { plot(body, card, box); drawing = true; }
      if (card.table) { table(body, card.table); }
    }
    (card.notes || []).forEach(function (text) { note(body, "small crm-chart-note", null, text); });
    if (!drawing) { finish(box, card.omitted ? "omitted" : "drawn"); }
  }

  function failed(box, status) {  // the HTTP status (or the network error) for support, not the text
    var body = box.querySelector(".panel-body");
    body.textContent = "";
    note(body, "crm-chart-failed", "fa-exclamation-triangle", ui.failed);
    box.setAttribute("data-status", status);
    finish(box, "failed");
  }

  Array.prototype.forEach.call(grid.querySelectorAll(".crm-chart[data-src]"), function (box) {
    fetch(box.getAttribute("data-src"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (card) { draw(box, card); })
      .catch(function (error) { failed(box, (error && error.message) || "error"); });
  });
})();
