/* ABHA address availability as the citizen types (enrollment and "add an address").
   The status element names the input to watch and the URL to ask:
   <p id="address-status" data-check-url="..." data-input="id_custom" data-select="choice-custom"> */
(function () {
  var status = document.getElementById("address-status");
  if (!status) return;
  var input = document.getElementById(status.dataset.input);
  var choice = status.dataset.select ? document.getElementById(status.dataset.select) : null;
  if (!input) return;
  var timer = null;
  input.addEventListener("input", function () {
    if (choice) choice.checked = true;
    clearTimeout(timer);
    var value = input.value.trim();
    if (!value) { status.textContent = ""; return; }
    timer = setTimeout(function () {
      fetch(status.dataset.checkUrl + "?abha_address=" + encodeURIComponent(value), {credentials: "same-origin"})
        .then(function (response) { return response.json(); })
        .then(function (body) {
          status.textContent = body.message;
          status.className = body.available ? "help abha-ok" : "field-error";
        });
    }, 300);
  });
})();
