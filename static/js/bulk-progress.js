/* Polls a bulk upload's status every second until it is done or failed (no library needed for this). */
(function () {
  var box = document.getElementById("bulk-progress");
  if (!box || box.dataset.finished) return;
  function show(data) {
    document.getElementById("bulk-status").textContent = data.status_label;
    document.getElementById("bulk-bar").value = data.percent;
    document.getElementById("bulk-processed").textContent = data.processed_rows;
    document.getElementById("bulk-total").textContent = data.total_rows;
    document.getElementById("bulk-created").textContent = data.created;
    document.getElementById("bulk-updated").textContent = data.updated;
    document.getElementById("bulk-errors").textContent = data.rows_with_errors;
    document.getElementById("bulk-message").textContent = data.message;
    if (data.status === "done") document.getElementById("bulk-report").hidden = false;
    return data.status === "done" || data.status === "failed";
  }
  function poll() {
    fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) { if (!show(data)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
