// Live status: any element with data-live-url re-renders itself when the order changes.
// The server answers 204 while nothing happened since our version (one cheap query). A page
// without a sign-in (order tracking) carries a signed token for its order in data-live-token,
// sent as a header so that it never appears in a URL.
//
// Where the server can push (data-live-push on <body>: an ASGI server), the same URL asked
// with "Accept: text/event-stream" is a stream of server-sent events saying "changed" the
// moment a change commits; the element then asks for its fragment as a poll would. The stream
// is read with fetch (not EventSource) so that it carries the same headers as the polls. While
// the stream is down (not offered, cut by a proxy, the server restarting) the element polls
// every data-live-poll-ms and tries the stream again after a while. data-live-push on the
// element says which of the two it is doing ("streaming" or "polling").
(function () {
  "use strict";
  var body = document.body;
  var interval = parseInt(body.getAttribute("data-live-poll-ms") || "2000", 10);
  var canPush = body.getAttribute("data-live-push") === "true" && !!window.ReadableStream &&
    !!window.TextDecoder && !!window.AbortController;
  var RETRY_MIN_MS = 1000;
  var RETRY_MAX_MS = 30000;

  function watch(el) {
    var url = el.getAttribute("data-live-url");
    var headers = { "X-Requested-With": "fetch" };
    var token = el.getAttribute("data-live-token");
    if (token) { headers["X-Live-Token"] = token; }
    var busy = false;
    var again = false;
    var timer = null;
    var stopped = false;
    var retryMs = RETRY_MIN_MS;
    var stream = null;

    function stop() {
      stopped = true;
      clearInterval(timer);
      timer = null;
      if (stream) { stream.abort(); }
      document.removeEventListener("visibilitychange", poll);
      el.setAttribute("data-live-stopped", "true");
    }
    function version() { return parseInt(el.getAttribute("data-live-version") || "0", 10); }
    function gone(status) { return [403, 404, 410].indexOf(status) !== -1; }

    function poll() {
      if (stopped || document.hidden) { return; }
      // A change heard while a fetch runs is asked for again as soon as it is back.
      if (busy) { again = true; return; }
      busy = true;
      again = false;
      fetch(url + "?since=" + encodeURIComponent(String(version())), {
        credentials: "same-origin",
        headers: headers,
        cache: "no-store"
      }).then(function (response) {
        // Gone (a tracking token that ran out) or not, or no longer, ours to see: asking again
        // will not change that.
        if (gone(response.status)) { stop(); return; }
        if (response.status === 200) {
          var next = response.headers.get("X-Live-Version");
          return response.text().then(function (html) {
            el.innerHTML = html;
            if (next) { el.setAttribute("data-live-version", next); }
            el.setAttribute("data-live-updated", new Date().toISOString());
          });
        }
      }).catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () {
          busy = false;
          if (again) { poll(); }
        });
    }

    function startPolling() {
      el.setAttribute("data-live-push", "polling");
      if (timer === null && !stopped) { timer = setInterval(poll, interval); }
    }
    function stopPolling() {
      clearInterval(timer);
      timer = null;
    }

    function heard(block) {
      var name = "message";
      var data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) { name = line.slice(6).trim(); }
        if (line.indexOf("data:") === 0) { data += line.slice(5).trim(); }
      });
      if (name !== "change") { return; }
      var pushed = 0;
      try { pushed = parseInt(JSON.parse(data).version, 10) || 0; } catch (e) { pushed = 0; }
      // 0: the server may have missed something; the fragment URL knows.
      if (pushed === 0 || pushed > version()) { poll(); }
    }

    function listen() {
      if (stopped) { return; }
      stream = new AbortController();
      var streamHeaders = { "Accept": "text/event-stream" };
      Object.keys(headers).forEach(function (key) { streamHeaders[key] = headers[key]; });
      var streaming = false;
      fetch(url + "?since=" + encodeURIComponent(String(version())), {
        credentials: "same-origin",
        headers: streamHeaders,
        cache: "no-store",
        signal: stream.signal
      }).then(function (response) {
        if (gone(response.status)) { stop(); return; }
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/event-stream") !== 0 || !response.body) {
          return;  // not offered here after all: polling it is
        }
        streaming = true;
        retryMs = RETRY_MIN_MS;
        stopPolling();
        el.setAttribute("data-live-push", "streaming");
        poll();  // what changed while no stream was open
        return readStream(response, heard);
      }).catch(function () { /* cut: polling until the next try */ })
        .then(function () {
          stream = null;
          if (stopped) { return; }
          startPolling();
          // A stream that ended by itself (its time was up) is opened again at once; one that
          // failed waits longer each time.
          var wait = streaming ? 250 : retryMs;
          if (!streaming) { retryMs = Math.min(retryMs * 2, RETRY_MAX_MS); }
          setTimeout(listen, wait);
        });
    }

    document.addEventListener("visibilitychange", poll);
    startPolling();
    if (canPush) { listen(); }
  }

  // A server-sent event stream read with fetch, each event block handed to onBlock.
  function readStream(response, onBlock) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function read() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { return; }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end = buffer.indexOf("\n\n");
        while (end !== -1) {
          onBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        return read();
      });
    }
    return read();
  }

  // A worklist's live sections (data-live-list: the stream URL; data-testid: the section's
  // name) follow the orders of their rows (data-live-order) and the sorts of change that may
  // bring an order into them (data-live-topics, e.g. "status:exception kind:jeopardy"). One
  // stream per page: when it says "change", the page is read again (once, however many sections)
  // and each section replaced by its new self (rows may leave, come or move). A section someone
  // is working in (a field focused or filled in, a form opened) is not replaced under their
  // hands: it says that it has changed and is replaced once they are done, or at once if they
  // ask. Only where the server pushes: without the push a worklist stays as loaded.
  var MAX_LIST_ORDERS = 250;
  var FIELDS = "input, textarea, select";

  // Someone is working in the section: what they typed or opened would be lost. A form opened
  // (a <details> open) or a field focused or changed from what the page brought.
  function inUse(section) {
    var active = document.activeElement;
    if (active && section.contains(active) && active.matches(FIELDS)) { return true; }
    if (section.querySelector("details[open]")) { return true; }
    return Array.prototype.some.call(section.querySelectorAll(FIELDS), function (field) {
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
        return false;
      }
      // A form put away (its <details> closed) is no longer being filled in.
      if (field.closest("details:not([open])")) { return false; }
      if (field.type === "checkbox" || field.type === "radio") {
        return field.checked !== field.defaultChecked;
      }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      return field.value !== field.defaultValue;
    });
  }

  function watchWorklist(sections) {
    var url = sections[0].getAttribute("data-live-list");
    var busy = false;
    var again = false;
    var stream = null;
    var listening = "";
    var retryMs = RETRY_MIN_MS;
    var seen = {};  // each section's content as last shown, by name

    function orders() {
      var ids = [];
      sections.forEach(function (section) {
        Array.prototype.forEach.call(section.querySelectorAll("[data-live-order]"), function (row) {
          var id = row.getAttribute("data-live-order");
          if (ids.indexOf(id) === -1) { ids.push(id); }
        });
      });
      return ids.slice(0, MAX_LIST_ORDERS);
    }
    function topics() {
      var all = [];
      sections.forEach(function (section) {
        (section.getAttribute("data-live-topics") || "").split(/\s+/).forEach(function (topic) {
          if (topic && all.indexOf(topic) === -1) { all.push(topic); }
        });
      });
      return all.sort();
    }
    function query() {
      return orders().map(function (id) { return "o=" + encodeURIComponent(id); })
        .concat(topics().map(function (topic) { return "t=" + encodeURIComponent(topic); }))
        .join("&");
    }

    function pending(section, on) {
      var note = section.querySelector(":scope > .live-pending");
      section.toggleAttribute("data-live-pending", on);
      if (!on) { if (note) { note.remove(); } return; }
      if (note) { return; }
      note = document.createElement("p");
      note.className = "live-pending";
      note.setAttribute("role", "status");
      note.appendChild(document.createTextNode(
        "This list has changed. It updates when you have finished here. "));
      var now = document.createElement("button");
      now.type = "button";
      now.textContent = "Show the changes now";
      now.addEventListener("click", function () { refresh(true); });
      note.appendChild(now);
      section.insertBefore(note, section.firstElementChild ? section.firstElementChild.nextSibling : null);
    }

    function replace(section, fresh) {
      section.innerHTML = fresh.innerHTML;
      section.hidden = fresh.hidden;
      section.setAttribute("data-live-updated", new Date().toISOString());
    }

    function refresh(force) {
      if (busy) { again = true; return; }
      busy = true;
      again = false;
      fetch(window.location.href, {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        cache: "no-store"
      }).then(function (response) {
        if (!response.ok) { return; }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          sections.forEach(function (section) {
            var key = section.getAttribute("data-testid");
            var fresh = page.querySelector('[data-live-list][data-testid="' + key + '"]');
            if (!fresh) { return; }
            if (!force && inUse(section)) {
              if (fresh.innerHTML !== seen[key]) { pending(section, true); }
              return;
            }
            pending(section, false);
            replace(section, fresh);
            seen[key] = fresh.innerHTML;
          });
          if (query() !== listening && stream) { stream.abort(); }  // listen anew
        });
      }).catch(function () { /* the next change tries again */ })
        .then(function () {
          busy = false;
          if (again) { refresh(false); }
        });
    }

    // A section that waited for someone to finish is brought up to date once they have.
    function settle() {
      setTimeout(function () {
        var waiting = sections.some(function (section) {
          return section.hasAttribute("data-live-pending") && !inUse(section);
        });
        if (waiting) { refresh(false); }
      }, 0);
    }
    sections.forEach(function (section) {
      seen[section.getAttribute("data-testid")] = section.innerHTML;
      ["focusout", "change", "input", "reset"].forEach(function (name) {
        section.addEventListener(name, settle);
      });
      section.addEventListener("toggle", settle, true);  // a form's <details> closed
    });

    function listen() {
      listening = query();
      if (!listening) { return; }
      stream = new AbortController();
      var streaming = false;
      fetch(url + "?" + listening, {
        credentials: "same-origin",
        headers: { "Accept": "text/event-stream", "X-Requested-With": "fetch" },
        cache: "no-store",
        signal: stream.signal
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("text/event-stream") !== 0 || !response.body) { return; }
        streaming = true;
        retryMs = RETRY_MIN_MS;
        sections.forEach(function (section) { section.setAttribute("data-live-push", "streaming"); });
        return readStream(response, function (block) {
          if (block.indexOf("event: change") !== -1) { refresh(false); }
        });
      }).catch(function () { /* cut, or aborted to listen to other rows */ })
        .then(function () {
          stream = null;
          sections.forEach(function (section) { section.setAttribute("data-live-push", "off"); });
          var wait = streaming ? 250 : retryMs;
          if (!streaming) { retryMs = Math.min(retryMs * 2, RETRY_MAX_MS); }
          setTimeout(listen, wait);
        });
    }
    listen();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-live-url]"), watch);
  var lists = Array.prototype.slice.call(document.querySelectorAll("[data-live-list]"));
  if (canPush && lists.length) { watchWorklist(lists); }
})();
