/* Saved list views and the column chooser (app/web/list_views_view.py, list_views_api.py):
   save the list as it is (its query string and columns), open one, delete one's own; tick and
   order the columns among the fields the user may read, remembered through the API. */
(function () {
  "use strict";
  var v = window.crmViews;
  if (!v) { return; }
  var csrfMeta = document.querySelector("meta[name='crm-csrf-token']");
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var $ = function (id) { return document.getElementById(id); };

  function send(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin",
                       headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf},
                       body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); });
  }

  function problems(data) {
    var message = data && data.message;
    if (message && typeof message === "object") {
      return Object.keys(message).map(function (k) { return [].concat(message[k]).join(" "); }).join(" ");
    }
    return String(message || "");
  }

  function listQuery() {  // the list as it is now, without the view it came from
    var params = new URLSearchParams(window.location.search);
    params.delete("view");
    return params.toString();
  }

  function toggle(id) {
    var el = $(id);
    el.style.display = el.style.display === "none" ? "" : "none";
  }

  $("crm-view-save-open").addEventListener("click", function (e) { e.preventDefault(); toggle("crm-view-save"); });
  $("crm-view-save-go").addEventListener("click", function () {
    var roles = Array.prototype.map.call($("crm-view-roles").selectedOptions, function (o) { return o.value; });
    send("POST", v.api, {name: $("crm-view-name").value, columns: v.columns, query: listQuery(),
                         shared_roles: roles, default: $("crm-view-default").checked})
      .then(function (answer) {
        if (!answer.ok) { $("crm-view-error").textContent = problems(answer.data); return; }
        var query = listQuery();
        window.location.search = (query ? query + "&" : "") + "view=" + answer.data.id;
      });
  });
  var remove = $("crm-view-delete");
  if (remove) {
    remove.addEventListener("click", function (e) {
      e.preventDefault();
      send("DELETE", v.api + remove.getAttribute("data-view")).then(function () {
        window.location.href = v.standard;
      });
    });
  }

  // -- the column chooser -------------------------------------------------------------------
  var list = $("crm-columns-list");
  var order = v.columns.concat(v.available.map(function (c) { return c.name; })
    .filter(function (n) { return v.columns.indexOf(n) < 0; }));
  var labels = {};
  v.available.forEach(function (c) { labels[c.name] = c.label; });

  function move(li, step) {
    var other = step < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (other) { list.insertBefore(li, step < 0 ? other : other.nextElementSibling); }
  }

  function button(icon, title, handler) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-default btn-xs";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.innerHTML = '<i class="fa ' + icon + '"></i>';
    b.addEventListener("click", handler);
    return b;
  }

  order.forEach(function (name) {
    if (!(name in labels)) { return; }
    var li = document.createElement("li");
    li.setAttribute("data-column", name);
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.className = "crm-column-check";
    box.value = name;
    box.checked = v.columns.indexOf(name) >= 0;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + labels[name] + " "));
    li.appendChild(label);
    li.appendChild(button("fa-arrow-up", v.ui.up, function () { move(li, -1); }));
    li.appendChild(button("fa-arrow-down", v.ui.down, function () { move(li, 1); }));
    list.appendChild(li);
  });

  function reopen() {
    var query = listQuery();
    window.location.search = (query ? query + "&" : "") + "view=";
  }

  $("crm-columns-open").addEventListener("click", function () { toggle("crm-columns"); });
  $("crm-columns-apply").addEventListener("click", function () {
    var chosen = Array.prototype.map.call(list.querySelectorAll("input.crm-column-check:checked"),
                                          function (b) { return b.value; });
    send("PUT", v.api + "prefs", {columns: chosen}).then(function (answer) {
      if (!answer.ok) { $("crm-columns-error").textContent = problems(answer.data); return; }
      reopen();
    });
  });
  $("crm-columns-reset").addEventListener("click", function () {
    send("PUT", v.api + "prefs", {columns: null}).then(reopen);
  });
}());
