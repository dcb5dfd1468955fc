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

  function check() {
    var value = input.value.trim();
    if (!value) { status.textContent = ""; return; }
    fetch(status.dataset.checkUrl + "?abha_address=" + encodeURIComponent(value), {credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (body) {
        if (input.value.trim() !== value) return;  // an older answer: the citizen typed on
        status.textContent = body.message;
        status.className = body.available ? "help abha-ok" : "field-error";
      })
      // No answer (offline, throttled): say nothing; the form checks again on submit.
      .catch(function () { status.textContent = ""; status.className = "help"; });
  }

  // The server's error for the submitted address sits under the field: the live check would repeat it.
  var field = input.closest(".field");
  var serverErrors = field ? field.querySelectorAll(".field-error") : [];
  function dropServerErrors() {
    serverErrors.forEach(function (line) { if (line !== status) line.remove(); });
    if (field) field.classList.remove("has-error");
  }

  input.addEventListener("input", function () {
    if (choice) choice.checked = true;
    dropServerErrors();
    clearTimeout(timer);
    if (!input.value.trim()) { status.textContent = ""; return; }
    timer = setTimeout(check, 300);
  });
  // Another option picked: the typed address would win on the server, so it goes (the choice is what is sent).
  if (choice) {
    document.querySelectorAll('input[type=radio][name="' + choice.name + '"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio !== choice && radio.checked) { input.value = ""; status.textContent = ""; dropServerErrors(); }
      });
    });
  }
  // Text typed before this script ran (a slow page) or restored by the back button; not when the server already
  // said what is wrong with it (two lines saying one thing).
  if (input.value.trim() && !(field && field.classList.contains("has-error"))) check();
})();
