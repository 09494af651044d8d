// stgy's own behaviour for its pages. No inline script anywhere, so the strict CSP holds;
// everything here is an addition: every page works without it.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every request htmx makes carries the page's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // A form swapped back with errors: move focus to the first field in error (or to the
  // form's message), so keyboard and screen reader users land on what to fix.
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt && event.detail.elt.isConnected ? event.detail.elt : document;
    var target = root.querySelector('[aria-invalid="true"], .form-error');
    if (!target) {
      target = document.querySelector('#flash:not(:empty)');
    }
    if (target) {
      if (!target.matches("input, textarea, select, button")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  });

  // The submit button is disabled while its request is under way (no double sends).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM") {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = true;
      });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = false;
      });
    }
  });
})();
