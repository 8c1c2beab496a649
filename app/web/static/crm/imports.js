/* Import screen: upload -> map columns -> preview (errors by row and column) -> run as a job
   -> progress (rows done / total, errors so far, cancel) -> result, error report, revert.
   Everything goes through /api/v1/imports/ and /api/v1/jobs/ (see app/web/imports_api.py). */
(function () {
  "use strict";
  var page = document.getElementById("crm-import");
  if (!page) { return; }
  var entity = page.getAttribute("data-entity");
  var api = page.getAttribute("data-api");
  var ui = JSON.parse(page.getAttribute("data-ui"));
  var token = document.querySelector('meta[name="crm-csrf-token"]').getAttribute("content");
  var state = {upload: null, columns: [], fields: []};

  function $(id) { return document.getElementById(id); }
  function show(id, on) { $(id).hidden = !on; }
  function error(message) {
    var box = $("import-error");
    if (!message) { box.hidden = true; box.textContent = ""; return; }
    if (typeof message === "object") {
      message = Object.keys(message).map(function (k) { return k + ": " + [].concat(message[k]).join(" "); }).join("\n");
    }
    box.textContent = message; box.hidden = false;
  }
  function call(method, url, body) {
    var options = {method: method, credentials: "same-origin", headers: {"X-CSRFToken": token, "Accept": "application/json"}};
    if (body instanceof FormData) { options.body = body; }
    else if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    return fetch(url, options).then(function (r) {
      return r.json().then(function (data) { return {status: r.status, data: data}; });
    });
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function mappingTable(mapping) {
    var body = $("import-columns").querySelector("tbody");
    body.innerHTML = "";
    state.columns.forEach(function (column, i) {
      var row = el("tr"); row.setAttribute("data-column", column);
      row.appendChild(el("td", column));
      var select = el("select", null, "form-control input-sm import-field");
      select.setAttribute("data-column", column); select.id = "import-field-" + i;
      select.appendChild(new Option(ui.ignore, ""));
      state.fields.forEach(function (f) {
        var option = new Option(f.label + (f.required ? " *" : "") + " (" + f.name + ")", f.name);
        option.disabled = !f.writable;
        select.appendChild(option);
      });
      select.value = mapping[column] || "";
      var cell = el("td"); cell.appendChild(select); row.appendChild(cell);
      row.appendChild(el("td", "", "text-danger import-column-error"));
      body.appendChild(row);
    });
    var keys = $("import-keys"); keys.innerHTML = "";
    state.fields.forEach(function (f) {
      var label = el("label", null, "checkbox-inline");
      var box = el("input"); box.type = "checkbox"; box.value = f.name; box.className = "import-key";
      label.appendChild(box); label.appendChild(document.createTextNode(" " + f.label));
      keys.appendChild(label);
    });
  }

  function plan() {
    var mapping = {};
    document.querySelectorAll(".import-field").forEach(function (s) { mapping[s.getAttribute("data-column")] = s.value || null; });
    var keys = [];
    document.querySelectorAll(".import-key:checked").forEach(function (b) { keys.push(b.value); });
    return {upload: state.upload, mapping: mapping, mode: $("import-mode").value, keys: keys};
  }

  function refused(message) {
    document.querySelectorAll(".import-column-error").forEach(function (c) { c.textContent = ""; });
    if (message && typeof message === "object") {
      Object.keys(message).forEach(function (column) {
        var row = document.querySelector('#import-columns tr[data-column="' + CSS.escape(column) + '"]');
        if (row) { row.querySelector(".import-column-error").textContent = [].concat(message[column]).join(" "); }
      });
    }
    error(message);
  }

  function previewTable(rows) {
    var head = $("import-preview-table").querySelector("thead");
    var body = $("import-preview-table").querySelector("tbody");
    head.innerHTML = ""; body.innerHTML = "";
    var tr = el("tr"); tr.appendChild(el("th", ui.row)); tr.appendChild(el("th", ui.outcome));
    state.columns.forEach(function (c) { tr.appendChild(el("th", c)); });
    head.appendChild(tr);
    rows.forEach(function (r) {
      var line = el("tr", null, "import-preview-row outcome-" + r.outcome);
      line.setAttribute("data-row", r.row);
      line.appendChild(el("td", r.row));
      line.appendChild(el("td", (ui[r.outcome] || r.outcome) + (r.note ? " — " + r.note : ""), "import-outcome"));
      state.columns.forEach(function (c, i) {
        var td = el("td", r.cells[i] === undefined ? "" : r.cells[i]);
        if (r.errors && r.errors[c]) {
          td.className = "danger import-cell-error"; td.setAttribute("data-column", c);
          td.appendChild(el("div", r.errors[c].join(" "), "small text-danger"));
        }
        line.appendChild(td);
      });
      if (r.errors && r.errors[""]) { line.appendChild(el("td", r.errors[""].join(" "), "danger small")); }
      body.appendChild(line);
    });
    show("import-preview", true);
  }

  $("import-upload").addEventListener("submit", function (event) {
    event.preventDefault();
    var file = $("import-file").files[0];
    if (!file) { return; }
    var form = new FormData(); form.append("file", file);
    error(null);
    call("POST", api + "/imports/" + entity + "/upload", form).then(function (answer) {
      if (answer.status !== 200) { error(answer.data.message); return; }
      state.upload = answer.data.upload; state.columns = answer.data.columns; state.fields = answer.data.fields;
      mappingTable(answer.data.mapping);
      show("import-mapping", true); show("import-preview", false); $("import-run-button").disabled = true;
    });
  });

  $("import-preview-button").addEventListener("click", function (event) {
    event.preventDefault();
    error(null);
    call("POST", api + "/imports/" + entity + "/preview", plan()).then(function (answer) {
      if (answer.status !== 200) { refused(answer.data.message); $("import-run-button").disabled = true; return; }
      refused(null); previewTable(answer.data.rows); $("import-run-button").disabled = false;
    });
  });

  function finished(job) {
    $("import-state").textContent = job.state_label;
    $("import-cancel").hidden = true;
    var counts = (job.result && job.result.counts) || job.counts || {};
    var list = $("import-counts"); list.innerHTML = "";
    Object.keys(counts).forEach(function (k) {
      var item = el("li", (ui[k] || k) + (ui.colon || ": "), "import-count"); item.setAttribute("data-outcome", k);
      item.appendChild(el("strong", counts[k])); list.appendChild(item);
    });
    if (job.files && job.files.errors) { $("import-report").href = job.files.errors; show("import-report", true); }
    show("import-result", true);
    $("import-progress").setAttribute("data-state", job.state);
  }

  $("import-run-button").addEventListener("click", function (event) {
    event.preventDefault();
    error(null);
    call("POST", api + "/imports/" + entity + "/run", plan()).then(function (answer) {
      if (answer.status !== 202) { refused(answer.data.message); return; }
      var panel = $("import-progress");
      panel.setAttribute("data-job", answer.data.job_id); panel.setAttribute("data-state", "queued");
      show("import-progress", true); show("import-result", false); $("import-cancel").hidden = false;
      $("import-run-button").disabled = true;
      window.crmPollJob(panel, api + "/jobs/", finished);
    });
  });

  $("import-cancel").addEventListener("click", function (event) {
    event.preventDefault();
    call("POST", api + "/jobs/" + $("import-progress").getAttribute("data-job") + "/cancel");
  });

  $("import-revert").addEventListener("click", function (event) {
    event.preventDefault();
    var id = $("import-progress").getAttribute("data-job");
    call("POST", api + "/imports/" + id + "/revert").then(function (answer) {
      if (answer.status !== 202) { error(answer.data.message); return; }
      $("import-revert-state").textContent = "…";
      var holder = el("div"); holder.setAttribute("data-job", answer.data.job_id);
      window.crmPollJob(holder, api + "/jobs/", function (job) {
        var c = (job.result && job.result.counts) || {};
        $("import-revert-state").textContent = job.state_label + " " + JSON.stringify(c);
      });
    });
  });
})();
