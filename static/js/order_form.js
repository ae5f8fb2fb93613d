// Sales order forms (the new order, add-ons for a live line): address check and customer
// lookup before submit (where the form has them), live prices and totals, and no double submit.
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
  var addOnInputs = form.querySelectorAll("input[name=add_ons]");
  function limitTo(inputs, allowedValues, serviceable) {
    Array.prototype.forEach.call(inputs, function (input) {
      var allowed = serviceable && allowedValues.indexOf(input.value) !== -1;
      input.disabled = !allowed;
      if (!allowed && input.checked) { input.checked = false; }
      var label = input.closest("label");
      if (label) { label.classList.toggle("unavailable", !allowed); }
    });
  }
  function checkAddress() {
    if (!postcode) { return; }
    var value = postcode.value.trim();
    if (!value) { result.textContent = "Enter a postcode to check the address."; return; }
    result.textContent = "Checking…";
    var url = form.getAttribute("data-serviceability-url") + "?postcode=" + encodeURIComponent(value);
    getJSON(url).then(function (data) {
      result.textContent = data.message;
      result.className = data.serviceable ? "help ok" : "help field-error";
      limitTo(planInputs, data.plans || [], data.serviceable);
      limitTo(addOnInputs, data.add_ons || [], data.serviceable);
      showPrices();
    }).catch(function () { result.textContent = "Could not check the address just now."; });
  }
  if (postcode) {
    byId("check-address").addEventListener("click", checkAddress);
    postcode.addEventListener("change", checkAddress);
  }

  // Prices: each chosen item's prices and the totals, per month and due now (one-time
  // charges), as the rep ticks. Sums in pence, so that 0.10 + 0.20 is 0.30. The server renders
  // the same table on every display (and on "Update prices" without JavaScript).
  var summary = byId("price-summary");
  var lines = byId("price-lines");
  var currency = summary.getAttribute("data-currency") || "GBP";
  function pence(text) {
    var parts = String(text || "0").split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  function money(p) {
    var cents = String(p % 100);
    return Math.floor(p / 100) + "." + (cents.length < 2 ? "0" + cents : cents) + " " + currency;
  }
  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }
  function showPrices() {
    var chosen = Array.prototype.filter.call(planInputs, function (i) { return i.checked; })
      .concat(Array.prototype.filter.call(addOnInputs, function (i) { return i.checked; }));
    var monthly = 0, once = 0;
    lines.textContent = "";
    chosen.forEach(function (input) {
      var m = pence(input.getAttribute("data-monthly"));
      var o = pence(input.getAttribute("data-once"));
      monthly += m; once += o;
      var row = document.createElement("tr");
      cell(row, input.getAttribute("data-label"));
      cell(row, money(m));
      cell(row, money(o));
      lines.appendChild(row);
    });
    if (!chosen.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = document.createElement("td");
      td.colSpan = 3;
      td.textContent = lines.getAttribute("data-empty") || "Choose a plan to see the prices.";
      empty.appendChild(td);
      lines.appendChild(empty);
    }
    summary.querySelector("[data-testid=total-monthly]").textContent = money(monthly);
    summary.querySelector("[data-testid=total-due-now]").textContent = money(once);
  }
  Array.prototype.forEach.call(planInputs, function (i) { i.addEventListener("change", showPrices); });
  Array.prototype.forEach.call(addOnInputs, function (i) { i.addEventListener("change", showPrices); });
  // The totals follow every tick: the no-JavaScript "Update prices" button is not needed.
  var updatePrices = byId("update-prices");
  if (updatePrices) { updatePrices.hidden = true; }
  showPrices();  // what the browser restored (back button) may differ from what was rendered

  // Existing customer: fill the form instead of typing it again. An e-mail names one customer
  // and fills the form; a phone number may be a whole household's, so its customers are only
  // offered, and the rep chooses who is on the line (or types a new customer).
  var lookup = byId("customer-lookup");
  if (lookup) { customerLookup(); }
  function customerLookup() {
    var lookupResult = byId("customer-lookup-result");
    var lookupChoices = byId("customer-lookup-choices");
    var FIELDS = ["name", "email", "phone", "address_line1", "address_line2", "city", "postcode"];
    function describe(c) {
      return c.name + " (" + c.orders + " earlier order" + (c.orders === 1 ? "" : "s") + ")";
    }
    function fill(c) {
      FIELDS.forEach(function (key) {
        var input = byId("id_" + key);
        if (input) { input.value = c[key] || ""; }
      });
      lookupChoices.textContent = "";
      lookupResult.textContent = "Found " + describe(c) + ". Details filled in.";
      checkAddress();
      byId("id_name").focus();
    }
    function offer(customers) {
      lookupChoices.textContent = "";
      customers.forEach(function (c) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = "Use " + c.name + ", " + c.email + ", " + c.address_line1 + ", " + c.postcode;
        button.addEventListener("click", function () { fill(c); });
        item.appendChild(button);
        lookupChoices.appendChild(item);
      });
      lookupResult.textContent = customers.length + " customer" + (customers.length === 1 ? " has" : "s have") +
        " this phone number. Households share numbers: ask who is ordering, then choose, or type a new customer below.";
      var first = lookupChoices.querySelector("button");
      if (first) { first.focus(); }
    }
    function findCustomer() {
      var q = lookup.value.trim();
      if (!q) { return; }
      getJSON(form.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(q)).then(function (data) {
        lookupChoices.textContent = "";
        if (!data.found) { lookupResult.textContent = "No existing customer found: enter the details below."; return; }
        if (data.match === "email") { fill(data.customers[0]); } else { offer(data.customers); }
      }).catch(function () { lookupResult.textContent = "Could not look the customer up just now."; });
    }
    byId("customer-lookup-button").addEventListener("click", findCustomer);
    lookup.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); findCustomer(); } });
  }

  // One submission per form: the server also refuses a second order for the same token.
  form.addEventListener("submit", function (event) {
    var button = byId("submit-order");
    if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "1");
    setTimeout(function () { button.disabled = true; button.textContent = "Submitting…"; }, 0);
  });
})();
