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
      form.querySelectorAll('button:not([type]), button[type="submit"]').forEach(function (button) {
        button.disabled = true;
      });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) {
      form.querySelectorAll('button:not([type]), button[type="submit"]').forEach(function (button) {
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

  // A sensitive image's placeholder: its BlurHash drawn on a small canvas (nothing is
  // loaded, so the CSP's img-src has nothing to refuse).
  var B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = B83.indexOf(text.charAt(i));
      if (digit < 0) {
        return NaN;
      }
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(value) {
    var x = value / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  }

  function toSRGB(value) {
    var x = Math.max(0, Math.min(1, value));
    return Math.round((x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255);
  }

  function signedSquare(value) {
    return (value < 0 ? -1 : 1) * value * value;
  }

  function blurhashPixels(hash, width, height) {
    var size = decode83(hash.charAt(0));
    var ny = Math.floor(size / 9) + 1;
    var nx = (size % 9) + 1;
    if (isNaN(size) || hash.length !== 4 + 2 * nx * ny) {
      return null;
    }
    var maxAC = (decode83(hash.charAt(1)) + 1) / 166;
    var dc = decode83(hash.substring(2, 6));
    var colors = [[toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]];
    for (var n = 1; n < nx * ny; n++) {
      var ac = decode83(hash.substring(4 + n * 2, 6 + n * 2));
      colors.push([
        signedSquare((Math.floor(ac / 361) - 9) / 9) * maxAC,
        signedSquare(((Math.floor(ac / 19) % 19) - 9) / 9) * maxAC,
        signedSquare(((ac % 19) - 9) / 9) * maxAC,
      ]);
    }
    var pixels = new Uint8ClampedArray(width * height * 4);
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < ny; j++) {
          for (var i = 0; i < nx; i++) {
            var basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            var color = colors[i + j * nx];
            r += color[0] * basis;
            g += color[1] * basis;
            b += color[2] * basis;
          }
        }
        var at = 4 * (x + y * width);
        pixels[at] = toSRGB(r);
        pixels[at + 1] = toSRGB(g);
        pixels[at + 2] = toSRGB(b);
        pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  function drawBlurhashes(root) {
    root.querySelectorAll("[data-blurhash]").forEach(function (placeholder) {
      if (placeholder.querySelector("canvas")) {
        return;
      }
      var pixels = blurhashPixels(placeholder.getAttribute("data-blurhash") || "", 32, 32);
      if (!pixels) {
        return;
      }
      var canvas = document.createElement("canvas");
      canvas.width = 32;
      canvas.height = 32;
      canvas.setAttribute("aria-hidden", "true");
      var drawing = canvas.getContext("2d");
      drawing.putImageData(new ImageData(pixels, 32, 32), 0, 0);
      placeholder.insertBefore(canvas, placeholder.firstChild);
    });
  }

  function enhance(root) {
    root.querySelectorAll("textarea[data-max-length]").forEach(updateCounter);
    drawBlurhashes(root);
  }
  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt.querySelectorAll) {
      enhance(event.detail.elt);
    }
  });

  // Live updates on the logged-in home page (#new-posts): an EventSource on /stream (the
  // session cookie goes with it). New posts are counted, not inserted: a button says how
  // many, and loads them on top of the timeline when clicked (`/?since_id=<newest shown>`),
  // so nothing moves under the reader's eyes. Notifications raise the header's unread
  // count. EventSource reconnects by itself; the stream is closed when the page is hidden.
  function newerId(id, than) {
    try {
      return BigInt(id) > BigInt(than);
    } catch (error) {
      return false;
    }
  }

  function startLive(bar) {
    var timeline = bar.parentElement;
    var pending = [];
    var seenNotifications = {};
    var source = null;
    var pageSize = parseInt(bar.getAttribute("data-page-size"), 10) || 20;

    function newestShown() {
      var first = timeline.querySelector("article.post");
      return first ? first.id.replace("post-", "") : "0";
    }

    function isPending(id) {
      return !document.getElementById("post-" + id) && newerId(id, newestShown());
    }

    function showCount() {
      var button = bar.querySelector("button");
      pending = pending.filter(isPending);
      if (!pending.length) {
        if (button) {
          button.remove();
        }
        return;
      }
      if (!button) {
        button = document.createElement("button");
        button.type = "button";
        button.className = "new-posts-button";
        button.addEventListener("click", loadNewPosts);
        bar.appendChild(button);
      }
      var text = bar.getAttribute(pending.length === 1 ? "data-one" : "data-many") || "";
      button.textContent = text.replace("{n}", String(pending.length));
    }

    function loadNewPosts() {
      if (!window.htmx || pending.length > pageSize) {
        // More than a page (or no htmx): the whole page again, newest first.
        window.location.assign("/");
        return;
      }
      window.htmx
        .ajax("GET", "/?since_id=" + newestShown(), { target: bar, swap: "afterend" })
        .then(function () {
          showCount();
          var first = timeline.querySelector("article.post");
          if (first) {
            first.setAttribute("tabindex", "-1");
            first.focus();
          }
        });
    }

    function onUpdate(event) {
      var id;
      try {
        id = String(JSON.parse(event.data).id);
      } catch (error) {
        return;
      }
      if (/^[0-9]+$/.test(id) && pending.indexOf(id) < 0 && isPending(id)) {
        pending.push(id);
        showCount();
      }
    }

    function onNotification(event) {
      var id;
      try {
        id = String(JSON.parse(event.data).id);
      } catch (error) {
        return;
      }
      var link = document.querySelector("a[data-unread-label]");
      if (!link || seenNotifications[id]) {
        return;
      }
      seenNotifications[id] = true;
      var badge = link.querySelector(".nav-count");
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "nav-count";
        badge.appendChild(document.createTextNode("0"));
        var label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = " " + link.getAttribute("data-unread-label");
        badge.appendChild(label);
        link.appendChild(badge);
      }
      var count = parseInt(badge.firstChild.nodeValue, 10) || 0;
      badge.firstChild.nodeValue = String(count + 1);
    }

    function open() {
      if (source || !window.EventSource) {
        return;
      }
      source = new EventSource(bar.getAttribute("data-stream"));
      source.addEventListener("update", onUpdate);
      source.addEventListener("notification", onNotification);
    }

    function close() {
      if (source) {
        source.close();
        source = null;
      }
    }

    window.addEventListener("pagehide", close);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        open();
      }
    });
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.getElementById("new-posts");
    if (bar && bar.getAttribute("data-stream")) {
      startLive(bar);
    }
  });
})();
