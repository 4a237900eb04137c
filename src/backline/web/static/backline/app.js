// Backline's own browser code. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Django refuses unsafe requests without the CSRF token; htmx requests carry it as a header.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var method = (event.detail.verb || "get").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
      return;
    }
    // Leave unset filters out of the URL that htmx pushes, so shared links stay short.
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (key) {
      if (params[key] === "") {
        delete params[key];
      }
    });
  });

  // htmx swaps in error answers too (4xx with a message), so the person sees why, not nothing.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Move focus to content that htmx swapped in, so keyboard and screen-reader users follow it.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var focusTarget = event.detail.target.querySelector("[data-focus-after-swap]");
    if (focusTarget instanceof HTMLElement) {
      focusTarget.focus();
    }
  });
})();
