// The console's own script: the idle-timeout warning with its one-click
// extension (WCAG 2.2.1), and nothing else that a page needs to work;
// htmx adds partial updates where it loads. No inline handlers: the CSP
// allows none.
(function () {
  "use strict";
  // An upload shows its progress: the form is sent by XHR, which reports
  // the bytes sent; the browser then opens the page the console answered
  // with. Any other answer (the form refused) sends the form again the
  // ordinary way, so that its page with the reasons is shown.
  var upload = document.getElementById("upload-form");
  if (upload && window.FormData) {
    var bar = document.getElementById("upload-progress");
    upload.addEventListener("submit", function (e) {
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable) { bar.value = Math.round(p.loaded * 100 / p.total); bar.textContent = bar.value + "%"; }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 200 && xhr.responseURL) { window.location.assign(xhr.responseURL); } else { upload.submit(); }
      });
      xhr.addEventListener("error", function () { upload.submit(); });
      xhr.open("POST", upload.action);
      xhr.send(new FormData(upload));
    });
  }
})();

(function () {
  "use strict";
  var body = document.body;
  var deadline = Number(body.dataset.deadline || 0);
  if (!deadline) return;
  var warn = Number(body.dataset.warn || 120000);
  var dialog = document.getElementById("idle-warning");
  var left = document.getElementById("idle-left");
  var button = document.getElementById("idle-extend");
  var skew = 0; // the server's deadline is in its clock; ours may differ a little

  function remaining() { return deadline - (Date.now() + skew); }

  function say(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var m = Math.floor(s / 60);
    left.textContent = m > 0 ? m + " min " + (s % 60) + " s" : s + " seconds";
  }

  function tick() {
    var ms = remaining();
    if (ms <= 0) {
      window.location.assign(body.dataset.login);
      return;
    }
    if (ms <= warn) {
      say(ms);
      if (!dialog.open) { dialog.showModal(); button.focus(); }
    } else if (dialog.open) {
      dialog.close();
    }
  }

  button.addEventListener("click", function () {
    fetch(body.dataset.extend, { method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("extend: " + r.status); return r.json(); })
      .then(function (j) { deadline = j.deadline; dialog.close(); })
      .catch(function () { window.location.assign(body.dataset.login); });
  });
  // Any htmx request renews the session on the server too.
  document.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status < 400) deadline = Math.max(deadline, Date.now() + Number(body.dataset.idle || 0));
  });
  setInterval(tick, 1000);
  tick();
})();
