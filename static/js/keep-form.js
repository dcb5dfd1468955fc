/* Switching language reloads the page: what the citizen typed in the page's forms is kept for that one reload.
   On a language button, the fields are saved in this tab's sessionStorage (under the page's path); the reloaded page
   (same path) puts them back and forgets them. Passwords, OTPs, hidden and file fields are never kept, nor an
   Aadhaar number or any field marked data-no-keep: Aadhaar is never stored, not even in the browser. */
(function () {
  var KEY = "keep-form:" + location.pathname;
  var switcher = document.querySelector("form.language-switcher");
  var storage;
  try { storage = window.sessionStorage; } catch (e) { return; }  // storage disabled: the switch works as before

  function kept(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && !field.disabled && field.form !== switcher &&
      ["password", "hidden", "file", "submit", "button", "reset"].indexOf(type) < 0 &&
      field.autocomplete !== "one-time-code" && field.name !== "otp" &&
      field.name.indexOf("aadhaar") < 0 && !field.hasAttribute("data-no-keep");
  }

  function fields() {
    return Array.prototype.filter.call(document.querySelectorAll("main input, main select, main textarea"), kept);
  }

  if (switcher) {
    switcher.addEventListener("submit", function () {
      var state = fields().map(function (field) {
        var type = (field.type || "").toLowerCase();
        var value = type === "checkbox" || type === "radio" ? field.checked : field.value;
        return [field.form ? field.form.id || "" : "", field.name, type === "radio" ? field.value : "", value];
      });
      try { storage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* full: nothing kept */ }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var saved;
    try { saved = JSON.parse(storage.getItem(KEY) || "null"); storage.removeItem(KEY); } catch (e) { return; }
    if (!saved) return;
    var all = fields();
    saved.forEach(function (entry) {
      var field = all.find(function (f) {
        var type = (f.type || "").toLowerCase();
        return f.name === entry[1] && (type !== "radio" || f.value === entry[2]);
      });
      if (!field) return;
      var type = (field.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") field.checked = entry[3];
      else field.value = entry[3];
      field.dispatchEvent(new Event("input", {bubbles: true}));
      field.dispatchEvent(new Event("change", {bubbles: true}));
    });
  });
})();
