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
  // The composer's counter: characters as the server counts them (code points, line
  // breaks as one), so what it allows is what the server accepts.
  function countCharacters(text) {
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function updateCounter(textarea) {
    var counter = document.getElementById(textarea.id + "-count");
    var max = parseInt(textarea.getAttribute("data-max-length"), 10);
    if (!counter || !max) {
      return;
    }
    var left = max - countCharacters(textarea.value);
    counter.textContent = counter.getAttribute(left < 0 ? "data-over" : "data-left")
      .replace("{n}", String(Math.abs(left)));
    counter.classList.toggle("over", left < 0);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("textarea[data-max-length]")) {
      updateCounter(target);
    }
  });

  // Ctrl/Cmd+Enter sends the composer; a plain Enter is a line break, and the Enter that
  // confirms an IME conversion (isComposing, or keyCode 229 in some browsers) never sends.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (
      event.key !== "Enter" ||
      !(event.ctrlKey || event.metaKey) ||
      event.isComposing ||
      event.keyCode === 229 ||
      !target ||
      !target.matches ||
      !target.matches("textarea[data-max-length]") ||
      !target.form
    ) {
      return;
    }
    event.preventDefault();
    target.form.requestSubmit();
  });

  function initCounters(root) {
    root.querySelectorAll("textarea[data-max-length]").forEach(updateCounter);
  }
  document.addEventListener("DOMContentLoaded", function () {
    initCounters(document);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) {
      initCounters(event.detail.elt);
    }
  });
})();
