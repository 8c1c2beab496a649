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
  if (filters && add) {
    add.addEventListener("click", function () {
      var rows = filters.querySelectorAll("[data-filter-row]");
      var last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
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
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
        row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      }
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
