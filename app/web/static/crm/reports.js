/* Report builder: entity change reloads the choices, filter rows are added and removed,
   and a grouped report is drawn with plotly (served locally). The form works without it. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }

  var entity = document.getElementById("report-entity");
  if (entity) {
    entity.addEventListener("change", function () {
      window.location.href = "/crm/reports/" + (entity.value ? "?entity=" + encodeURIComponent(entity.value) : "");
    });
  }

  var filters = document.getElementById("report-filters");
  var add = document.getElementById("report-add-filter");
  var configNode = document.getElementById("report-filter-config");
  var config = configNode ? JSON.parse(configNode.textContent) : { fields: {} };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function option(value, label, selected) {
    var o = el("option", { value: value }, label);
    o.selected = !!selected;
    return o;
  }
  function parts(row) {
    return {
      field: row.querySelector("[data-filter-field]"), op: row.querySelector("[data-filter-op]"),
      box: row.querySelector("[data-filter-value-box]"), value: row.querySelector("[data-filter-value]")
    };
  }
  function currentValues(row) {
    var v = parts(row).value.value;
    return v ? v.split(",") : [];
  }

  /* Operators of the chosen field, in the user's words (the server refuses any other). */
  function drawOps(row) {
    var p = parts(row), spec = config.fields[p.field.value];
    if (!spec) { return; }
    var keep = p.op.value;
    var allowed = spec.ops.map(function (o) { return o[0]; });
    p.op.innerHTML = "";
    spec.ops.forEach(function (o) { p.op.appendChild(option(o[0], o[1], o[0] === keep)); });
    if (allowed.indexOf(keep) < 0) { p.op.selectedIndex = 0; }
  }

  /* Value controls for the field's kind and operator; they write into the hidden fv input. */
  function drawValue(row) {
    var p = parts(row), spec = config.fields[p.field.value];
    Array.prototype.slice.call(p.box.children).forEach(function (c) { if (c !== p.value) { p.box.removeChild(c); } });
    if (!spec) { p.value.type = "text"; return; }
    p.value.type = "hidden";
    var op = p.op.value, values = currentValues(row), many = op === "in" || op === "not_in";
    var label = p.value.getAttribute("aria-label");
    var control;
    if (op === "empty") {
      control = el("select", { "class": "form-control input-sm", "data-v": "1", "aria-label": label });
      control.appendChild(option("true", config.yes, values[0] !== "false"));
      control.appendChild(option("false", config.no, values[0] === "false"));
    } else if (spec.kind === "date" && op === "relative") {
      control = el("select", { "class": "form-control input-sm", "data-v": "1", "aria-label": label });
      config.ranges.forEach(function (r) { control.appendChild(option(r[0], r[1], r[0] === values[0])); });
    } else if (spec.kind === "date" || ((spec.kind === "number" || spec.kind === "text") && op === "between")) {
      var type = spec.kind === "date" ? "date" : "text";
      var count = op === "between" ? 2 : 1;
      for (var i = 0; i < count; i++) {
        var input = el("input", { type: type, "class": "form-control input-sm", "data-v": "1",
          "aria-label": count === 2 ? (i === 0 ? config.from : config.to) : label });
        var v = values[i] || "";
        input.value = type === "date" ? v.slice(0, 10) : v;
        p.box.appendChild(input);
      }
      return;
    } else if (spec.kind === "choice" || spec.kind === "boolean") {
      control = el("select", { "class": "form-control input-sm", "data-v": "1", "aria-label": label });
      if (many) { control.multiple = true; control.size = Math.min(6, spec.choices.length); }
      var choices = spec.kind === "boolean" ? [["true", config.yes], ["false", config.no]] : spec.choices;
      choices.forEach(function (c) { control.appendChild(option(c[0], c[1], values.indexOf(c[0]) >= 0)); });
    } else if (spec.kind === "link") {
      var titles = JSON.parse(p.value.getAttribute("data-titles") || "{}");
      var wrap = el("span", { "class": "crm-report-picker" });
      control = el("select", { "class": "crm-picker form-control", "data-v": "1", "data-url": spec.url,
        "aria-label": label });
      if (many) { control.multiple = true; } else { control.appendChild(option("", "")); }
      values.forEach(function (id) { if (titles[id]) { control.appendChild(option(id, titles[id], true)); } });
      wrap.appendChild(control);
      p.box.appendChild(wrap);  // crm.js turns it into a search-as-you-type picker
      return;
    } else {
      control = el("input", { type: "text", "class": "form-control input-sm", "data-v": "1", "aria-label": label,
        placeholder: p.value.getAttribute("placeholder") || "" });
      control.value = values.join(",");
    }
    p.box.appendChild(control);
  }

  function collect(row) {
    var p = parts(row);
    if (p.value.type !== "hidden") { return; }
    var values = [];
    p.box.querySelectorAll("[data-v]").forEach(function (c) {
      if (c.tagName === "SELECT") {
        Array.prototype.forEach.call(c.selectedOptions, function (o) { if (o.value !== "") { values.push(o.value); } });
      } else if (c.value.trim() !== "") {
        values.push(c.value.trim());
      }
    });
    p.value.value = values.join(",");
  }

  function setUp(row) {
    drawOps(row);
    drawValue(row);
  }

  if (filters && add) {
    filters.querySelectorAll("[data-filter-row]").forEach(setUp);
    filters.addEventListener("change", function (event) {
      var row = event.target.closest("[data-filter-row]");
      if (!row) { return; }
      if (event.target.matches("[data-filter-field]")) {
        parts(row).value.value = "";
        parts(row).value.setAttribute("data-titles", "{}");
        setUp(row);
      } else if (event.target.matches("[data-filter-op]")) {
        collect(row);
        drawValue(row);
      }
    });
    add.addEventListener("click", function () {
      var rows = filters.querySelectorAll("[data-filter-row]");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.classList.remove("has-error");
      row.querySelectorAll(".crm-report-control-error").forEach(function (n) { n.parentNode.removeChild(n); });
      var p = parts(row);
      p.field.selectedIndex = 0;
      p.op.selectedIndex = 0;
      p.value.value = "";
      p.value.setAttribute("data-titles", "{}");
      drawValue(row);
      last.parentNode.insertBefore(row, last.nextSibling);
    });
    filters.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-filter]");
      if (!button) { return; }
      var rows = filters.querySelectorAll("[data-filter-row]");
      var row = button.closest("[data-filter-row]");
      if (rows.length > 1) {
        row.parentNode.removeChild(row);
      } else {
        var p = parts(row);
        p.field.selectedIndex = 0;
        p.value.value = "";
        drawValue(row);
      }
    });
    form.addEventListener("submit", function () {
      filters.querySelectorAll("[data-filter-row]").forEach(collect);
    });
  }

  var data = document.getElementById("report-chart-data");
  var target = document.getElementById("report-chart");
  if (!data || !target || typeof window.Plotly === "undefined") { return; }
  var figure = JSON.parse(data.textContent);  // drawn by app.charts.figures, like dashboard charts
  var config = { displaylogo: false, responsive: true };
  var words = document.getElementById("crm-plotly-locale");  // the mode bar in the page's language
  if (words) {
    var locale = JSON.parse(words.textContent || "{}");
    config.locale = locale.locale;
    config.locales = {}; config.locales[locale.locale] = { dictionary: locale.dictionary || {} };
  }
  window.Plotly.newPlot(target, figure.data, figure.layout || {}, config);
}());
