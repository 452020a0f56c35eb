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

  // A form marked data-upload is sent with XMLHttpRequest to show upload progress; without
  // JavaScript it is a plain multipart POST. The server answers like any htmx request: a
  // redirect header on success, the form block again (422/413) when something is wrong.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload")) return;
    if (!window.FormData || !window.XMLHttpRequest) return;
    event.preventDefault();
    if (form.classList.contains("is-uploading")) return;
    var status = form.querySelector(".upload-status");
    var wrap = form.querySelector(".upload-progress-wrap");
    var bar = form.querySelector(".upload-progress");
    var file = form.querySelector('input[type="file"][name="file"]');
    var limit = Number(form.getAttribute("data-max-bytes")) || 0;
    var limitText = form.getAttribute("data-max-mb") + " MB";

    function say(text, isError) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("is-error", Boolean(isError));
    }

    if (file && file.files && file.files[0] && limit && file.files[0].size > limit) {
      say("That file is larger than the " + limitText + " this site accepts.", true);
      return;
    }

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable || !bar) return;
      bar.max = progress.total;
      bar.value = progress.loaded;
      bar.setAttribute("aria-valuetext", Math.floor((100 * progress.loaded) / progress.total) + "%");
      say("Uploading… " + Math.floor((100 * progress.loaded) / progress.total) + "%");
    });
    xhr.upload.addEventListener("load", function () {
      if (bar) bar.value = bar.max;
      say("Uploaded. Checking the file…");
    });
    xhr.addEventListener("load", function () {
      form.classList.remove("is-uploading");
      var redirect = xhr.getResponseHeader("HX-Redirect");
      if (redirect) {
        window.location.assign(redirect);
        return;
      }
      var html = (xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") === 0;
      var retarget = xhr.getResponseHeader("HX-Retarget");
      if (html && retarget && document.querySelector(retarget)) {
        document.querySelector(retarget).insertAdjacentHTML("beforeend", xhr.responseText);
        say(xhr.status === 413 ? "That file is larger than the " + limitText + " this site accepts." : "The upload was refused.", true);
        return;
      }
      if (html && xhr.responseText.indexOf('id="video-form"') !== -1) {
        var holder = document.createElement("div");
        holder.innerHTML = xhr.responseText;
        var fresh = holder.querySelector("#video-form");
        if (fresh) {
          form.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
          var invalid = fresh.querySelector('[aria-invalid="true"]');
          if (invalid) invalid.focus();
          return;
        }
      }
      if (xhr.status === 413) say("That file is larger than the " + limitText + " this site accepts.", true);
      else say("The upload failed (error " + xhr.status + "). Please try again.", true);
    });
    xhr.addEventListener("error", function () {
      form.classList.remove("is-uploading");
      say("The upload stopped: the connection to the server was lost. Please try again.", true);
    });
    if (wrap) wrap.hidden = false;
    if (bar) bar.value = 0;
    form.classList.add("is-uploading");
    say("Starting the upload…");
    xhr.send(new FormData(form));
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
