/* Jobs page and import screen: poll GET /api/v1/jobs/<id> while a job is queued or running
   and move its progress bar; reload once it has finished (results, files, buttons). */
(function () {
  "use strict";
  function poll(row, api, onDone) {
    var id = row.getAttribute("data-job");
    fetch(api + id, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        var bar = row.querySelector(".job-bar");
        var count = row.querySelector(".job-count");
        var state = row.querySelector(".job-state");
        if (bar && job.total) { bar.style.width = Math.round(100 * job.done / job.total) + "%"; }
        if (bar) { bar.setAttribute("aria-valuenow", job.done); bar.setAttribute("aria-valuemax", job.total || 0); }
        if (count) { count.textContent = job.done + (job.total ? " / " + job.total : ""); }
        if (state) { state.textContent = job.state_label; }
        var errors = row.querySelector(".job-errors");
        if (errors && job.counts && job.counts.rejected !== undefined) { errors.textContent = job.counts.rejected; }
        row.setAttribute("data-state", job.state);
        if (job.state === "queued" || job.state === "running") {
          setTimeout(function () { poll(row, api, onDone); }, 500);
        } else { onDone(job); }
      });
  }
  window.crmPollJob = poll;
  var page = document.getElementById("crm-jobs");
  if (!page) { return; }
  var api = page.getAttribute("data-api");
  page.querySelectorAll(".crm-job").forEach(function (row) {
    var state = row.getAttribute("data-state");
    if (state === "queued" || state === "running") {
      poll(row, api, function () { window.location.reload(); });
    }
  });
})();
