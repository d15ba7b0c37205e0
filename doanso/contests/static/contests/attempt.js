// The attempt page: saves every answer as it is chosen, keeps unsent answers across a refresh or a dropped
// connection (localStorage), counts the server's remaining time down, and submits at zero. No framework.
// Each save carries a sequence number; the server keeps only the newest per question (a late or replayed
// request changes nothing), so resending after a failure is always safe.
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root) return;
  var d = root.dataset;
  var form = root.querySelector("[data-form]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var storeKey = "attempt:" + d.key;
  var seq = parseInt(d.seq, 10) || 0;
  var deadline = Date.now() + parseInt(d.remaining, 10) * 1000;
  var statusBox = document.querySelector("[data-status]");
  var timerBox = document.querySelector("[data-timer]");
  var finished = false;
  var pending = load();
  var retryDelay = 1000;
  var retryTimer = null;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function store() {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode: memory only */ }
  }
  function setStatus(text, warn) {
    statusBox.textContent = text || "";
    statusBox.classList.toggle("warn", !!warn);
  }
  function stateOf(slot) {
    var box = slot === "prediction" ? root.querySelector("[data-prediction]") : root.querySelector('[data-position="' + slot + '"]');
    return box && box.querySelector("[data-state]");
  }
  function mark(slot, text, warn) {
    var el = stateOf(slot);
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("warn", !!warn);
  }

  // A request that hangs (a dead mobile connection often neither answers nor fails) is given up after 20 s
  // and retried like a failed one.
  function timed(options) {
    if (window.AbortController) {
      var ctrl = new AbortController();
      setTimeout(function () { ctrl.abort(); }, 20000);
      options.signal = ctrl.signal;
    }
    return options;
  }

  function body(slot, item) {
    return slot === "prediction"
      ? { prediction: item.value, seq: item.seq }
      : { position: parseInt(slot, 10), chosen: item.value, seq: item.seq };
  }

  function send(slot) {
    var item = pending[slot];
    if (!item) return Promise.resolve();
    mark(slot, d.msgSaving);
    return fetch(d.save, timed({
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body(slot, item)),
    })).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok || data.code === "stale") {
          // Saved (or the server already holds a newer answer for this question).
          if (pending[slot] && pending[slot].seq === item.seq) { delete pending[slot]; store(); }
          mark(slot, d.msgSaved);
          retryDelay = 1000;
          if (!Object.keys(pending).length) setStatus("");
        } else if (data.code === "time_up" || data.code === "submitted") {
          finish();
        } else if (response.status === 429 || response.status >= 500) {
          throw new Error("retry");
        } else {
          delete pending[slot]; store();
          mark(slot, data.error || "", true);
        }
      });
    }).catch(function () {
      mark(slot, d.msgOffline, true);
      setStatus(d.msgOffline, true);
      scheduleRetry();
    });
  }

  function scheduleRetry() {
    if (retryTimer || finished) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      flush();
    }, retryDelay);
    // At most 5 s apart: on a weak signal the browser's "online" event rarely comes, so this timer is what
    // sends the answers once the connection is back.
    retryDelay = Math.min(retryDelay * 2, 5000);
  }

  function flush() {
    return Promise.all(Object.keys(pending).map(send));
  }

  function remember(slot, value) {
    seq += 1;
    pending[slot] = { value: value, seq: seq };
    store();
    send(slot);
  }

  form.addEventListener("change", function (event) {
    var box = event.target.closest("[data-position]");
    if (!box || finished) return;
    var chosen = Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return parseInt(i.value, 10); });
    remember(box.dataset.position, chosen);
  });
  var prediction = form.querySelector("input[name=prediction]");
  if (prediction) {
    var typing = null;
    prediction.addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(function () { remember("prediction", prediction.value.trim()); }, 600);
    });
  }

  function finish() {
    if (finished) return;
    finished = true;
    form.querySelectorAll("input,button").forEach(function (el) { el.disabled = true; });
    submit();
  }

  // Submitted (or already submitted, or ended by the server at the deadline) once the server answers: then the
  // result page. Without a connection, stay here and keep trying: leaving would show the browser's own error
  // page, and the unsent answers are kept until the server has answered.
  function submit() {
    fetch(d.submit, timed({
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
    })).then(function (response) {
      if (response.status === 429 || response.status >= 500) throw new Error("retry");
      try { localStorage.removeItem(storeKey); } catch (e) { /* private mode */ }
      window.location.assign(d.result);
    }).catch(function () {
      setStatus(d.msgSubmitOffline, true);
      setTimeout(submit, 5000);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (finished) return;
    if (!window.confirm(d.msgConfirm)) return;
    flush().then(finish);
  });

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    timerBox.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    timerBox.classList.toggle("low", left <= 60);
    if (left <= 0 && !finished) {
      setStatus(d.msgTimeup, true);
      flush().then(finish);
      return;
    }
    setTimeout(tick, 1000 - ((deadline - Date.now()) % 1000 + 1000) % 1000 || 1000);
  }

  // Answers chosen before a refresh but never acknowledged: show them again and send them with new numbers.
  Object.keys(pending).forEach(function (slot) {
    var item = pending[slot];
    if (slot === "prediction") {
      if (prediction) prediction.value = item.value;
    } else {
      var box = root.querySelector('[data-position="' + slot + '"]');
      if (!box) { delete pending[slot]; return; }
      box.querySelectorAll("input").forEach(function (i) { i.checked = item.value.indexOf(parseInt(i.value, 10)) >= 0; });
    }
    seq += 1;
    item.seq = seq;
  });
  store();
  flush();
  window.addEventListener("online", flush);
  tick();
})();
