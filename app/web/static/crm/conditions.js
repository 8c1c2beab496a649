/* MetaCRM: live field conditions on record forms (required_if, visible_if, read_only_if).
   Loaded only on the add and edit forms of a record view (crm/base.html), with the URL of
   its /<view>/conditions endpoint in data-url: every change posts the form there, which
   answers {hidden, required, read_only} from the same conditions the server enforces;
   fields are hidden, starred and locked to match.
   A static file (no inline script), so a Content-Security-Policy can forbid inline code. */
(function ($) {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-url");
  if (!url) { return; }
  // FAB's record form, by its id: the first form with a CSRF token is the top bar's language menu.
  var $form = $("form#model_form");
  if (!$form.length) { return; }

  function row(name) {
    var $input = $form.find("[name='" + name + "']");
    return { input: $input, group: $input.closest(".form-group, tr") };
  }

  function apply(states) {
    var hidden = states.hidden || [], required = states.required || [], locked = states.read_only || [];
    $form.find("[name]").each(function () {
      var name = this.name;
      if (name === "csrf_token") { return; }
      var r = row(name);
      r.group.toggle(hidden.indexOf(name) < 0);
      r.input.prop("required", required.indexOf(name) >= 0 && hidden.indexOf(name) < 0);
      r.group.toggleClass("crm-required", required.indexOf(name) >= 0);
      r.input.prop("readonly", locked.indexOf(name) >= 0);
      r.group.toggleClass("crm-read-only", locked.indexOf(name) >= 0);
    });
  }

  var pending = null;
  function refresh() {
    if (pending) { pending.abort(); }
    pending = $.post(url, $form.serialize()).done(apply);
  }
  $form.on("change", "input, select, textarea", refresh);
  refresh();
})(window.jQuery);
