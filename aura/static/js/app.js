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
