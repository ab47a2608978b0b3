// The console's one script: live updates over Server-Sent Events, countdowns, the wall clock.
// Every page works without it (forms post, links navigate); it only spares the reloads.
// Served as a file (the CSP forbids inline scripts); no library, no build step.
(function () {
  "use strict";
  var body = document.body;
  var live = body.dataset.live || "";
  var zone = body.dataset.tz || undefined;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) {
    var s = Math.abs(Math.trunc(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(r) : pad(m) + ":" + pad(r);
  }

  // countdowns: <span data-deadline="ISO" data-label="…" data-over="…"><b>mm:ss</b></span>
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = (Date.parse(el.dataset.deadline) - now) / 1000;
      var over = left < 0;
      el.classList.toggle("over", over);
      el.textContent = el.dataset.label + " " + (over ? el.dataset.over + " " : "");
      var b = document.createElement("b");
      b.textContent = clock(left);
      el.appendChild(b);
    });
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      el.textContent = new Date().toLocaleTimeString("zh-CN", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false
      });
    });
  }
  tick();
  setInterval(tick, 1000);

  if (!live || !window.EventSource) { return; }

  // a region holding a field being typed in is left alone until the next refresh
  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && active.matches("input, textarea, select")) {
      return true;
    }
    // a field changed from what the page came with: typed text, a chosen option, a ticked box
    return Array.prototype.some.call(
      region.querySelectorAll("textarea, select, input:not([type=hidden])"),
      function (f) {
        if (f.tagName === "SELECT") {  // the page's choice: the option marked selected, else the first
          var first = Array.prototype.findIndex.call(f.options, function (o) { return o.defaultSelected; });
          return f.selectedIndex !== Math.max(first, 0);
        }
        if (f.type === "radio" || f.type === "checkbox") { return f.checked !== f.defaultChecked; }
        return f.value !== f.defaultValue;
      });
  }

  function swap(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    tpl.content.querySelectorAll("[data-region]").forEach(function (fresh) {
      var old = document.getElementById(fresh.id);
      if (old && !busy(old)) { old.replaceWith(fresh); }
    });
    tick();
    body.dataset.refreshed = String(Date.now());
  }

  var timer = null, running = false, again = false;
  function refresh() {
    if (running) { again = true; return; }
    running = true;
    fetch(body.dataset.partial, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (resp) {
        if (resp.status === 401 || resp.status === 403) { location.reload(); return null; }
        return resp.ok ? resp.text() : null;
      })
      .then(function (html) { if (html !== null) { swap(html); } })
      .catch(function () { /* the stream's reconnect will refresh */ })
      .then(function () {
        running = false;
        if (again) { again = false; refresh(); }
      });
  }
  function schedule() {  // a burst of notices (an incident opens: several events) is one fetch
    clearTimeout(timer);
    timer = setTimeout(refresh, 40);
  }

  function concerns(kind, data) {
    if (live === "board") { return true; }
    if (live.indexOf("incident:") === 0) {
      return kind === "incident" && String(data.id) === live.slice(9);
    }
    return false;
  }

  function setConnected(ok) {
    body.classList.toggle("offline", !ok);
    document.querySelectorAll(".live-state").forEach(function (el) { el.hidden = ok; });
  }

  var lost = false;
  function connect() {
    var source = new EventSource("/events");
    ["transition", "incident"].forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        var data = {};
        try { data = JSON.parse(e.data); } catch (err) { /* ignore */ }
        if (concerns(kind, data)) { schedule(); }
      });
    });
    source.addEventListener("resync", schedule);
    source.onopen = function () {
      setConnected(true);
      body.dataset.connected = "1";
      if (lost) { lost = false; schedule(); }  // catch up on what happened while away
    };
    source.onerror = function () {
      lost = true;
      setConnected(false);
      if (source.readyState === EventSource.CLOSED) {  // the browser gave up: we do not
        source.close();
        setTimeout(connect, 3000);
      }
    };
  }
  connect();
})();
