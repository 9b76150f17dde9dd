/* Every page: the "Mes Services" menu of the navigation bar. */
(function () {
  "use strict";
  const button = document.getElementById("services-menu-button");
  const menu = document.getElementById("services-menu");
  if (!button || !menu) return;

  function setOpen(open) {
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  }
  button.addEventListener("click", function (event) {
    event.stopPropagation();
    setOpen(menu.hidden);
    if (!menu.hidden) {
      const first = menu.querySelector("a");
      if (first) first.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!menu.hidden && !menu.contains(event.target)) setOpen(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !menu.hidden) {
      setOpen(false);
      button.focus();
    }
  });
})();
