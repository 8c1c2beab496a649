// Draws the dashboard's plotly figures (embedded as JSON by the server) and opens
// the list of a bar's or slice's records on click. No network but this server.
(function () {
  "use strict";
  var data = document.getElementById("crm-dashboard-data");
  if (!data || typeof Plotly === "undefined") { return; }
  var cards = JSON.parse(data.textContent || "[]");
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]};
  var words = document.getElementById("crm-plotly-locale");  // the mode bar in the page's language
  if (words) {
    var locale = JSON.parse(words.textContent || "{}");
    config.locale = locale.locale;
    config.locales = {}; config.locales[locale.locale] = {dictionary: locale.dictionary || {}};
  }
  cards.forEach(function (card) {
    var el = document.getElementById("plot-" + card.name);
    if (!el || !card.figure) { return; }
    var layout = Object.assign({margin: {l: 50, r: 20, t: 10, b: 50}, height: 320, autosize: true},
                               card.figure.layout || {});
    Plotly.newPlot(el, card.figure.data || [], layout, config).then(function () {
      el.setAttribute("data-drawn", "1");
    });
    el.on("plotly_click", function (event) {
      var point = event && event.points && event.points[0];
      if (!point) { return; }
      var index = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
      var link = card.links && card.links[index];
      if (link) { window.location.href = link; }
    });
  });
})();
