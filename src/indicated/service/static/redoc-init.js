// Starts Redoc on /redoc from this site's own copy (no CDN, no inline script): the page names the
// OpenAPI document in data-url.
(function () {
  "use strict";
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.url, {}, root);
})();
