// Live status: any element with data-live-url re-renders itself when the order changes.
// The server answers 204 while nothing happened since our version (one cheap query). A page
// without a sign-in (order tracking) carries a signed token for its order in data-live-token,
// sent as a header so that it never appears in a URL.
(function () {
  "use strict";
  var body = document.body;
  var interval = parseInt(body.getAttribute("data-live-poll-ms") || "2000", 10);

  function watch(el) {
    var url = el.getAttribute("data-live-url");
    var headers = { "X-Requested-With": "fetch" };
    var token = el.getAttribute("data-live-token");
    if (token) { headers["X-Live-Token"] = token; }
    var busy = false;
    var timer = null;
    function stop() {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", poll);
      el.setAttribute("data-live-stopped", "true");
    }
    function poll() {
      if (busy || document.hidden) { return; }
      busy = true;
      var version = el.getAttribute("data-live-version") || "0";
      fetch(url + "?since=" + encodeURIComponent(version), {
        credentials: "same-origin",
        headers: headers,
        cache: "no-store"
      }).then(function (response) {
        // Gone (a tracking token that ran out) or not, or no longer, ours to see: asking again
        // will not change that.
        if ([403, 404, 410].indexOf(response.status) !== -1) { stop(); return; }
        if (response.status === 200) {
          var next = response.headers.get("X-Live-Version");
          return response.text().then(function (html) {
            el.innerHTML = html;
            if (next) { el.setAttribute("data-live-version", next); }
            el.setAttribute("data-live-updated", new Date().toISOString());
          });
        }
      }).catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () { busy = false; });
    }
    timer = setInterval(poll, interval);
    document.addEventListener("visibilitychange", poll);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-live-url]"), watch);
})();
