// Starts Swagger UI on /api/docs (a file, not an inline script: the page's CSP allows
// only this site's scripts).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var url = root.getAttribute("data-spec-url");
  root.textContent = "";
  window.ui = window.SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
  });
});
