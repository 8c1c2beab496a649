/* MetaCRM: search-as-you-type pickers for link and user fields.
   A .crm-picker <select> asks its data-url for records matching what is typed,
   20 at a time, instead of loading the whole related table into the page. */
(function ($) {
  "use strict";
  function initPicker(el) {
    var $el = $(el);
    if ($el.data("crm-picker-ready")) { return; }
    $el.data("crm-picker-ready", true);
    $el.select2({
      allowClear: !$el.prop("multiple"),
      placeholder: "",
      width: "100%",
      minimumInputLength: 0,
      ajax: {
        url: $el.data("url"),
        dataType: "json",
        delay: 250,
        data: function (params) { return { q: params.term || "", page: (params.page || 1) - 1 }; },
        processResults: function (data) {
          return { results: data.results || [], pagination: { more: !!data.more } };
        }
      }
    });
  }
  function initAll(root) { $(root).find("select.crm-picker").each(function () { initPicker(this); }); }
  $(function () {
    initAll(document);
    // FAB's filter bar clones inputs when a filter is added: initialise those too.
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        m.addedNodes.forEach(function (node) { if (node.nodeType === 1) { initAll(node); } });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})(jQuery);

/* MetaCRM: the global search box in the top bar. "/" focuses it (unless typing
   elsewhere); an empty search is not sent. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("crm-global-search");
    if (!box || event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) { return; }
    event.preventDefault();
    box.focus();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("crm-global-search")) { return; }
    var box = form.querySelector("input[name=q]");
    if (box && !box.value.trim()) { event.preventDefault(); }
  });
})();

/* MetaCRM: Delete on the record page asks first (app/web/record_page.py). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.classList && form.classList.contains("crm-delete-record")
        && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
