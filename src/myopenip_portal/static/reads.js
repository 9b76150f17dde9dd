/* The post-reads quirk: a portal whose reads are POST requests. A link marked
 * data-post-read (a page of the services list) is followed by posting its query as a
 * form to its path, as form-based portals do; the link keeps its role and name. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const link = event.target.closest ? event.target.closest("a[data-post-read]") : null;
    if (!link) return;
    event.preventDefault();
    const url = new URL(link.href, location.href);
    const form = document.createElement("form");
    form.method = "post";
    form.action = url.pathname;
    form.hidden = true;
    url.searchParams.forEach(function (value, name) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  });
})();
