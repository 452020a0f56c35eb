// Aura's only script besides htmx: small behaviours that degrade to plain HTML without it.
(function () {
  "use strict";

  // Dismiss a notice with its close button; notices also fade on their own.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".notice-close");
    if (button) button.closest(".notice").remove();
  });

  function expireNotices(root) {
    root.querySelectorAll(".notice:not([data-timed])").forEach(function (notice) {
      notice.setAttribute("data-timed", "");
      setTimeout(function () { notice.remove(); }, 8000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { expireNotices(document); });

  // A form that comes back with mistakes puts the keyboard on the first field to correct.
  document.addEventListener("htmx:load", function (event) {
    var invalid = event.target.querySelector && event.target.querySelector('form [aria-invalid="true"]');
    if (invalid && !invalid.hasAttribute("hx-preserve")) invalid.focus();
  });
  document.addEventListener("htmx:afterSwap", function () { expireNotices(document); });

  // A request that never reached the server (offline, server down) still tells the user.
  document.addEventListener("htmx:sendError", function () {
    var notices = document.getElementById("notices");
    if (!notices) return;
    var notice = document.createElement("div");
    notice.className = "notice notice-error";
    notice.textContent = "The server could not be reached. Check your connection and try again.";
    notices.appendChild(notice);
    expireNotices(notices);
  });
})();

// Streaming: the upload form's progress bar, and the player's resume reports.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // An upload form (data-upload) is an htmx form: these handlers only add its progress bar,
  // a size check before anything is sent, and a message when the server refuses the body
  // before Aura sees it (waitress's own 413). Without JavaScript it is a plain multipart POST.
  function uploadForm(event) {
    var form = event.target && event.target.closest ? event.target.closest("form[data-upload]") : null;
    return form && event.detail && event.detail.elt === form ? form : null;
  }

  function say(form, text, isError) {
    var status = form.querySelector(".upload-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function limitText(form) {
    return "That file is larger than the " + form.getAttribute("data-max-mb") + " MB this site accepts.";
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var file = form.querySelector('input[type="file"][name="file"]');
    var limit = Number(form.getAttribute("data-max-bytes")) || 0;
    if (file && file.files && file.files[0] && limit && file.files[0].size > limit) {
      event.preventDefault();
      say(form, limitText(form), true);
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var wrap = form.querySelector(".upload-progress-wrap");
    var bar = form.querySelector(".upload-progress");
    if (wrap) wrap.hidden = false;
    if (bar) bar.value = 0;
    form.classList.add("is-uploading");
    say(form, "Starting the upload…");
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event);
    if (!form || !event.detail.lengthComputable || !event.detail.total) return;
    var bar = form.querySelector(".upload-progress");
    var percent = Math.floor((100 * event.detail.loaded) / event.detail.total);
    if (bar) {
      bar.value = percent;
      bar.setAttribute("aria-valuetext", percent + "%");
    }
    say(form, percent >= 100 ? "Uploaded. Checking the file…" : "Uploading… " + percent + "%");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    form.classList.remove("is-uploading");
    var xhr = event.detail.xhr;
    var html = xhr && (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0;
    if (event.detail.failed && xhr && !html) {
      say(form, xhr.status === 413 ? limitText(form) : "The upload failed (error " + xhr.status + "). Please try again.", true);
    }
  });

  // A refused body that is not one of Aura's pages (waitress's plain 413) is not swapped in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    var type = event.detail.xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("text/html") !== 0) event.detail.shouldSwap = false;
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event);
    if (!form) return;
    form.classList.remove("is-uploading");
    say(form, "The upload stopped: the connection to the server was lost. Please try again.", true);
  });

  // The player reports where it is every 15 s while playing, and on pause: signed-in viewers
  // resume there later, and the report keeps the browser's access grant alive.
  function setUpPlayer(video) {
    if (video.hasAttribute("data-reporting")) return;
    video.setAttribute("data-reporting", "");
    var url = video.getAttribute("data-progress-url");
    var resume = Number(video.getAttribute("data-resume")) || 0;
    var lastReport = 0;

    video.addEventListener("loadedmetadata", function () {
      // Browsers that ignore the #t= media fragment still start at the saved position.
      if (resume > 0 && video.currentTime < 1 && resume < video.duration) video.currentTime = resume;
    });

    function report(force) {
      if (!url || !isFinite(video.duration) || video.duration <= 0) return;
      var now = Date.now();
      if (!force && now - lastReport < 15000) return;
      lastReport = now;
      var body = new FormData();
      body.append("position", video.currentTime.toFixed(1));
      body.append("duration", video.duration.toFixed(1));
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRFToken": csrfToken() }
      }).catch(function () { /* the next report tries again */ });
    }

    video.addEventListener("timeupdate", function () { if (!video.paused) report(false); });
    video.addEventListener("pause", function () { report(true); });
    video.addEventListener("ended", function () { report(true); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && document.body.contains(video)) report(true);
    });
  }

  function setUpPlayers(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("video[data-progress-url]").forEach(setUpPlayer);
  }

  document.addEventListener("DOMContentLoaded", function () { setUpPlayers(document); });
  document.addEventListener("htmx:load", function (event) { setUpPlayers(event.target); });
})();

// Live blocks (data-live, polled with hx-trigger="every 5s, aura:refresh"): no request while
// the tab is hidden, and one refresh as soon as it is shown again. A trigger filter
// ("every 5s [!document.hidden]") would need eval, which Aura's CSP and htmx config forbid.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-live")) event.preventDefault();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-live]").forEach(function (block) {
      window.htmx.trigger(block, "aura:refresh");
    });
  });
})();
