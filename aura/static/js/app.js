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

// Keyboard, focus and history: rows as one Tab stop, focus kept across swaps, the place kept
// across Back and forward.
(function () {
  "use strict";

  // -- Focus across htmx swaps --------------------------------------------------------------
  // htmx puts the focus back on an element with the same id after a swap. Controls that appear
  // more than once on a page (a film's watchlist toggle in two rows) cannot share an id, so they
  // carry data-focus-key instead: the element with the same key, where the old one was, gets
  // the focus back. Recorded before the request, since hx-disabled-elt blurs the button.
  var pendingFocus = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var active = document.activeElement;
    var key = active && active.getAttribute && active.getAttribute("data-focus-key");
    pendingFocus = key ? { key: key, near: active.parentElement && active.parentElement.closest("[id], section, article, main") } : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingFocus) return;
    var wanted = pendingFocus;
    var current = document.activeElement;
    if (current && current !== document.body && current.isConnected && current.getAttribute("data-focus-key") === wanted.key) {
      pendingFocus = null;
      return;
    }
    var selector = '[data-focus-key="' + CSS.escape(wanted.key) + '"]';
    var scope = wanted.near && wanted.near.isConnected ? wanted.near : null;
    var target = (scope && (scope.querySelector(selector) || scope.closest(selector))) || document.querySelector(selector);
    if (target && (!current || current === document.body || !current.isConnected)) {
      pendingFocus = null;
      target.focus({ preventScroll: true });
    }
  });

  // -- The tab's title follows swapped content (active search) ------------------------------
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail && event.detail.target;
    var titled = root && root.querySelector ? (root.matches("[data-page-title]") ? root : root.querySelector("[data-page-title]")) : null;
    if (titled) document.title = titled.getAttribute("data-page-title");
  });

  // -- Rows: one Tab stop, arrow keys within (the roving tabindex pattern) -------------------
  // Only the current card's link is in the Tab order; the other cards, their watchlist
  // buttons and the "Next page" link are reached with the arrow keys (Down goes to a card's
  // watchlist button, Up comes back). Cards that infinite scroll adds join the row without
  // taking the focus.
  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function cardsOf(row) {
    return Array.prototype.slice.call(row.querySelectorAll(".card-link"));
  }

  function setUpRow(row) {
    var cards = cardsOf(row);
    if (!cards.length) return;
    var current = cards.filter(function (card) { return card.tabIndex === 0 && card.hasAttribute("data-roving-current"); })[0] || cards[0];
    row.querySelectorAll(FOCUSABLE).forEach(function (element) { element.tabIndex = -1; });
    current.tabIndex = 0;
    current.setAttribute("data-roving-current", "");
  }

  function makeCurrent(row, card) {
    cardsOf(row).forEach(function (other) {
      other.tabIndex = -1;
      other.removeAttribute("data-roving-current");
    });
    card.tabIndex = 0;
    card.setAttribute("data-roving-current", "");
  }

  function setUpRows(root) {
    var rows = [];
    if (root.matches && root.matches("[data-roving]")) rows.push(root);
    var inside = root.closest ? root.closest("[data-roving]") : null;
    if (inside && rows.indexOf(inside) < 0) rows.push(inside);
    (root.querySelectorAll ? root : document).querySelectorAll("[data-roving]").forEach(function (row) {
      if (rows.indexOf(row) < 0) rows.push(row);
    });
    rows.forEach(setUpRow);
  }

  document.addEventListener("keydown", function (event) {
    var row = event.target.closest && event.target.closest("[data-roving]");
    if (!row || event.altKey || event.ctrlKey || event.metaKey) return;
    var cards = cardsOf(row);
    var card = event.target.closest(".card");
    var link = card && card.querySelector(".card-link");
    var index = cards.indexOf(link);
    var next = null;
    if (event.key === "ArrowRight") next = cards[index + 1];
    else if (event.key === "ArrowLeft") next = cards[index - 1];
    else if (event.key === "Home") next = cards[0];
    else if (event.key === "End") next = cards[cards.length - 1];
    else if (event.key === "ArrowDown" && event.target === link) next = card.querySelector(".watch-button");
    else if (event.key === "ArrowUp" && event.target !== link) next = link;
    if (!next) return;
    event.preventDefault();
    if (next.classList.contains("card-link")) makeCurrent(row, next);
    next.focus();
    next.scrollIntoView({ block: "nearest", inline: "nearest" });
  });

  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-roving]");
    if (row && event.target.classList.contains("card-link")) makeCurrent(row, event.target);
  });

  // -- Rows: previous and next buttons on wide screens --------------------------------------
  function updateScrollButtons(row) {
    var frame = row.closest(".strip-frame");
    if (!frame) return;
    var prev = frame.querySelector(".strip-prev");
    var next = frame.querySelector(".strip-next");
    var more = row.querySelector(".sentinel") !== null;
    var atStart = row.scrollLeft <= 8;
    var atEnd = row.scrollLeft + row.clientWidth >= row.scrollWidth - 8;
    if (prev) prev.hidden = atStart;
    if (next) next.hidden = atEnd && !more;
  }

  function setUpScrollButtons(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".strip-frame .strip-cards").forEach(function (row) {
      updateScrollButtons(row);
      if (row.hasAttribute("data-scroll-watched")) return;
      row.setAttribute("data-scroll-watched", "");
      row.addEventListener("scroll", function () { updateScrollButtons(row); }, { passive: true });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".strip-scroll");
    if (!button) return;
    var row = document.getElementById(button.getAttribute("aria-controls"));
    if (!row) return;
    var step = Math.max(row.clientWidth * 0.85, 160) * (button.classList.contains("strip-prev") ? -1 : 1);
    var calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    row.scrollBy({ left: step, behavior: calm ? "auto" : "smooth" });
  });

  window.addEventListener("resize", function () { setUpScrollButtons(document); });

  // -- Back and forward come back to the same place -----------------------------------------
  // Row pages keep their cards in the address (?until=, see catalog/views.py); the scroll
  // position is kept here, per address, for this tab only.
  var SCROLL_KEY = "aura:scroll:";

  function here() { return location.pathname + location.search; }

  // htmx says which address the page it saves belongs to: on Back, the address bar already
  // shows the page being restored while the one being left is saved.
  function saveScroll(event) {
    var path = (event && event.detail && event.detail.path) || here();
    try { sessionStorage.setItem(SCROLL_KEY + path, String(Math.round(window.scrollY))); } catch (error) { /* storage off */ }
  }

  function restoreScroll() {
    var saved = null;
    try { saved = sessionStorage.getItem(SCROLL_KEY + here()); } catch (error) { return; }
    var y = Number(saved);
    if (saved !== null && y > 0) window.scrollTo(0, y);
  }

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  document.addEventListener("htmx:beforeHistorySave", saveScroll);
  window.addEventListener("pagehide", saveScroll);
  document.addEventListener("htmx:historyRestore", function () { setUp(document); restoreScroll(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) restoreScroll(); });

  // -- Things that ask to be seen when they arrive (the two-factor QR code) ------------------
  function reveal(root) {
    var wanted = root.querySelector ? root.querySelector("[data-reveal]") : null;
    if (wanted) wanted.scrollIntoView({ block: "center" });
  }

  function setUp(root) {
    setUpRows(root);
    setUpScrollButtons(root);
    // With JavaScript the rows load on as they scroll: their "Next page" links need no stop.
    (root.querySelectorAll ? root : document).querySelectorAll(".sentinel .next-page").forEach(function (link) { link.tabIndex = -1; });
  }

  function cameBack() {
    var entry = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    return Boolean(entry && (entry.type === "back_forward" || entry.type === "reload"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    reveal(document);
    if (cameBack()) restoreScroll();
  });
  document.addEventListener("htmx:load", function (event) {
    setUp(event.target);
    reveal(event.target);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var row = event.detail && event.detail.target && event.detail.target.closest && event.detail.target.closest("[data-roving]");
    if (row) { setUpRow(row); updateScrollButtons(row); }
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

    // A network failure mid-film (a presigned link to the bucket lives minutes, or the
    // connection dropped): ask the stream URL again, which checks the grant and gives a fresh
    // link, and carry on from the same second. At most three tries a minute.
    var retries = [];
    video.addEventListener("error", function () {
      var error = video.error;
      if (!error || error.code !== 2 || !(video.currentTime > 0)) return;
      var now = Date.now();
      retries = retries.filter(function (at) { return now - at < 60000; });
      if (retries.length >= 3) return;
      retries.push(now);
      var at = video.currentTime;
      var playing = !video.paused;
      video.addEventListener("loadedmetadata", function once() {
        video.removeEventListener("loadedmetadata", once);
        video.currentTime = at;
        if (playing) video.play().catch(function () { /* the viewer presses play */ });
      });
      video.load();
    });

    video.addEventListener("timeupdate", function () { if (!video.paused) report(false); });
    video.addEventListener("pause", function () { report(true); });
    video.addEventListener("ended", function () { report(true); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && document.body.contains(video)) report(true);
    });
  }

  function setUpPlayers(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("video[data-progress-url]").forEach(function (video) {
      setUpPlayer(video);
      setUpControls(video);
    });
  }

  // The player's buttons and keyboard shortcuts (as in Jellyfin's and YouTube's players):
  // Space or K play and pause, J/L or the arrows go 10 s back and forward, F is full screen,
  // M mutes, < and > change the speed. The browser's own controls stay as they are.
  var SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

  function seek(video, seconds) {
    var end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.max(0, Math.min(end, video.currentTime + seconds));
  }

  function setSpeed(video, rate, select) {
    video.playbackRate = rate;
    if (select) select.value = String(rate);
  }

  function stepSpeed(video, select, direction) {
    var index = SPEEDS.indexOf(video.playbackRate);
    if (index < 0) index = SPEEDS.indexOf(1);
    var next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, index + direction))];
    setSpeed(video, next, select);
  }

  function toggleFullScreen(frame) {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (frame.requestFullscreen) frame.requestFullscreen().catch(function () { /* refused */ });
  }

  function setUpControls(video) {
    if (video.hasAttribute("data-controls")) return;
    video.setAttribute("data-controls", "");
    var controls = document.getElementById("player-controls");
    var frame = video.closest(".player") || video;
    var select = controls ? controls.querySelector('[data-player="speed"]') : null;
    if (controls) {
      controls.hidden = false;
      controls.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-player]");
        if (!button) return;
        seek(video, button.getAttribute("data-player") === "back" ? -10 : 10);
      });
      if (select) select.addEventListener("change", function () { setSpeed(video, Number(select.value), null); });
    }
    video.addEventListener("ratechange", function () { if (select) select.value = String(video.playbackRate); });

    document.addEventListener("keydown", function (event) {
      if (!document.body.contains(video) || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      // Typing in a field, or a key a focused control uses itself, is not a shortcut.
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
      var onControl = target.closest && target.closest("a, button, summary");
      var key = event.key;
      var handled = true;
      if ((key === " " && !onControl) || key === "k" || key === "K") {
        if (video.paused) video.play().catch(function () { /* the browser refused */ });
        else video.pause();
      } else if (key === "j" || key === "J" || (key === "ArrowLeft" && !onControl)) {
        seek(video, -10);
      } else if (key === "l" || key === "L" || (key === "ArrowRight" && !onControl)) {
        seek(video, 10);
      } else if (key === "f" || key === "F") {
        toggleFullScreen(frame);
      } else if (key === "m" || key === "M") {
        video.muted = !video.muted;
      } else if (key === "<") {
        stepSpeed(video, select, -1);
      } else if (key === ">") {
        stepSpeed(video, select, 1);
      } else {
        handled = false;
      }
      if (handled) event.preventDefault();
    }, true);
  }

  document.addEventListener("DOMContentLoaded", function () { setUpPlayers(document); });
  document.addEventListener("htmx:load", function (event) { setUpPlayers(event.target); });
})();

// Trailers: a still with a play button until someone asks for the trailer; then, and only then,
// the no-cookie YouTube player in its place. Without JavaScript the button opens YouTube.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var start = event.target.closest ? event.target.closest("a.trailer-start[data-embed]") : null;
    if (!start) return;
    event.preventDefault();
    var frame = document.createElement("iframe");
    frame.src = start.getAttribute("data-embed");
    frame.title = start.getAttribute("data-title") || "Trailer";
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    frame.setAttribute("allowfullscreen", "");
    start.replaceWith(frame);
    frame.focus();
  });
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
