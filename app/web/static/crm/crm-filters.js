/* MetaCRM: the list's filter bar, per field type (app/web/filterops.py).
   FAB's bar gives every filter one input named _flt_<operator index>_<column>. Here a date
   filter gets a native date input, two for "between", a select of relative ranges for
   "within"; a choice filter becomes a multiple select for "any of" / "none of". A filter
   FAB re-shows as one row per value (between, any of) is put back into one row. */
(function ($) {
  "use strict";
  var cfg = window.crmFilterConfig;
  if (!cfg) { return; }
  var NAME = /^_flt_(\d+)_(.+)$/;

  function parts(row) {
    var $val = $(row).find(".filter_val");
    var match = NAME.exec($val.first().attr("name") || "");
    if (!match || !cfg.ops[match[2]]) { return null; }
    var $op = $(row).find("select.filter-op");
    var index = $op.length && $op.val() !== null && $op.val() !== "" ? $op.val() : match[1];
    return { col: match[2], index: index, op: cfg.ops[match[2]][parseInt(index, 10)], $val: $val };
  }

  function dateInput(name, value, extra) {
    return $('<input type="date" class="form-control filter_val crm-date-filter"/>')
      .addClass(extra || "").attr("name", name).val(/^\d{4}-\d{2}-\d{2}$/.test(value || "") ? value : "");
  }

  function rangeSelect(name, value) {
    var $select = $('<select class="form-control filter_val crm-range"/>').attr("name", name);
    cfg.ranges.forEach(function (r) { $select.append($("<option/>").attr("value", r[0]).text(r[1])); });
    if (value && cfg.ranges.some(function (r) { return r[0] === value; })) { $select.val(value); }
    return $select;
  }

  function shape(row, values) {
    var p = parts(row);
    if (!p) { return; }
    var name = "_flt_" + p.index + "_" + p.col;
    var kind = cfg.kinds[p.col];
    if (values === undefined) { values = p.$val.map(function () { return $(this).val(); }).get(); }
    values = [].concat.apply([], values.map(function (v) { return Array.isArray(v) ? v : [v]; }));
    if (kind === "date" || kind === "datetime") {
      var $cell = p.$val.first().closest("td");
      var fresh = p.op === "range" ? [rangeSelect(name, values[0])]
        : p.op === "between" ? [dateInput(name, values[0], "crm-between-start"), dateInput(name, values[1], "crm-between-end")]
        : [dateInput(name, values[0])];
      $cell.empty().append(fresh);
      $cell.attr("data-crm-op", p.op);
      return;
    }
    p.$val.attr("name", name);
    if (kind === "choice" && p.$val.is("select")) {
      var many = p.op === "in" || p.op === "not_in";
      p.$val.prop("multiple", many);
      if (values.length) { p.$val.val(many ? values : values[0]); }
    } else if (p.$val.is("select") && values.length) {
      p.$val.val(values);
    }
  }

  function mergeRepeated($rows) {
    var seen = {};
    $rows.each(function () {
      var p = parts(this);
      if (!p) { return; }
      var key = p.col + "/" + p.index;
      var values = p.$val.map(function () { return $(this).val(); }).get();
      if (seen[key]) {
        seen[key].values = seen[key].values.concat(values);
        $(this).remove();
      } else {
        seen[key] = { row: this, values: values };
      }
    });
    Object.keys(seen).forEach(function (key) { shape(seen[key].row, seen[key].values); });
  }

  $(function () {
    var $body = $("#filter_form table.filters tbody");
    if (!$body.length) { return; }
    mergeRepeated($body.children("tr"));
    $body.attr("data-crm-ready", "1");
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        m.addedNodes.forEach(function (node) { if (node.nodeName === "TR") { shape(node); } });
      });
    }).observe($body[0], { childList: true });
    $body.on("change", "select.filter-op", function () { shape($(this).closest("tr")[0]); });
  });
})(jQuery);
