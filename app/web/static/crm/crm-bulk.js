/* The list's bulk controls (app/web/bulk_view.py): the value box follows the chosen field's
   type (a list for choices and yes/no, a date picker for dates), and "all N matching" ticks
   the page and posts the list's own query string, so the server re-reads the filters. */
(function () {
  "use strict";
  var fields = window.crmBulkFields || [];
  var picker = document.getElementById("crm-bulk-field");
  var box = document.getElementById("crm-bulk-value-box");
  var inputTypes = {date: "date", datetime: "datetime-local", integer: "number", decimal: "number",
                    money: "number", percent: "number", email: "email", url: "url"};

  function control(field) {
    var el;
    if (field.choices && field.choices.length) {
      el = document.createElement("select");
      el.appendChild(document.createElement("option"));
      field.choices.forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice[0];
        option.textContent = choice[1];
        el.appendChild(option);
      });
    } else {
      el = document.createElement(field.type === "text" ? "textarea" : "input");
      if (el.tagName === "INPUT") { el.type = inputTypes[field.type] || "text"; }
      if (el.type === "number") { el.step = "any"; }
    }
    el.id = "crm-bulk-value";
    el.name = "bulk_value";
    el.className = "form-control input-sm";
    el.setAttribute("form", "action_form");
    return el;
  }

  function follow() {
    var field = fields.filter(function (f) { return f.name === picker.value; })[0];
    if (field && box) { box.replaceChildren(control(field)); }
  }

  if (picker) { picker.addEventListener("change", follow); follow(); }

  var all = document.getElementById("crm-bulk-all");
  var form = document.getElementById("action_form");
  if (all && form) {
    var base = form.getAttribute("action");
    all.addEventListener("change", function () {
      if (all.checked) {
        document.querySelectorAll("input.action_check").forEach(function (box) {
          if (!box.checked) { box.click(); }
        });
      }
      form.setAttribute("action", all.checked ? base + window.location.search : base);
    });
  }
}());
