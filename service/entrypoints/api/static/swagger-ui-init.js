// Starts Swagger UI on the document the page names. A file of its own, not an inline script:
// the page's Content-Security-Policy runs scripts of this origin only.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    // No badge from the public validator: the page reaches no other site.
    validatorUrl: null,
  });
})();
