// Sales order form: address check and customer lookup before submit, and no double submit.
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  if (!form) { return; }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  function byId(id) { return document.getElementById(id); }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); });
  }

  // Serviceability: which plans the network can deliver at this postcode.
  var postcode = byId("id_postcode");
  var result = byId("serviceability-result");
  var planInputs = form.querySelectorAll("input[name=plan]");
  function checkAddress() {
    var value = postcode.value.trim();
    if (!value) { result.textContent = "Enter a postcode to check the address."; return; }
    result.textContent = "Checking…";
    var url = form.getAttribute("data-serviceability-url") + "?postcode=" + encodeURIComponent(value);
    getJSON(url).then(function (data) {
      result.textContent = data.message;
      result.className = data.serviceable ? "help ok" : "help field-error";
      Array.prototype.forEach.call(planInputs, function (input) {
        var allowed = data.serviceable && data.plans.indexOf(input.value) !== -1;
        input.disabled = !allowed;
        if (!allowed && input.checked) { input.checked = false; }
        var label = input.closest("label");
        if (label) { label.classList.toggle("unavailable", !allowed); }
      });
    }).catch(function () { result.textContent = "Could not check the address just now."; });
  }
  byId("check-address").addEventListener("click", checkAddress);
  postcode.addEventListener("change", checkAddress);

  // Existing customer: fill the form instead of typing it again.
  var lookup = byId("customer-lookup");
  var lookupResult = byId("customer-lookup-result");
  function findCustomer() {
    var q = lookup.value.trim();
    if (!q) { return; }
    getJSON(form.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(q)).then(function (data) {
      if (!data.found) { lookupResult.textContent = "No existing customer found: enter the details below."; return; }
      var c = data.customer;
      ["name", "email", "phone", "address_line1", "address_line2", "city", "postcode"].forEach(function (key) {
        var input = byId("id_" + key);
        if (input) { input.value = c[key] || ""; }
      });
      lookupResult.textContent = "Found " + c.name + " (" + data.orders + " earlier order" + (data.orders === 1 ? "" : "s") + "). Details filled in.";
      checkAddress();
    });
  }
  byId("customer-lookup-button").addEventListener("click", findCustomer);
  lookup.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); findCustomer(); } });

  // One submission per form: the server also refuses a second order for the same token.
  form.addEventListener("submit", function (event) {
    var button = byId("submit-order");
    if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "1");
    setTimeout(function () { button.disabled = true; button.textContent = "Submitting…"; }, 0);
  });
})();
