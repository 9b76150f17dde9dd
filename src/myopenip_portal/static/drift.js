/* The replica's drift (POST /_test/drift {"hide": [...], "roles": {...}}, see drift.py):
 * only served in pages while some names are hidden or given another role. Every control
 * whose name is one of the hidden ones, or starts with it then a space, disappears
 * (display: none), now and whenever the page renders one later. A hidden <label>'s field
 * disappears with it. Every control whose name is a key of "roles" (or starts with it
 * then a space) takes that ARIA role. Nothing is removed from the document, so the
 * page's own scripts keep working. */
(function () {
  "use strict";
  const data = document.getElementById("drift-hide");
  const hidden = data ? JSON.parse(data.textContent) : [];
  const rolesData = document.getElementById("drift-roles");
  const roles = rolesData ? JSON.parse(rolesData.textContent) : {};
  const renamed = Object.keys(roles);
  if (hidden.length === 0 && renamed.length === 0) return;

  // Elements named by their content (or by aria-label, which any element may carry);
  // never a container, whose text merely starts with a control's.
  const CONTROLS = [
    "a", "button", "input", "select", "textarea", "label", "option", "summary", "legend",
    "th", "h1", "h2", "h3", "h4", "h5", "h6", "[aria-label]",
  ].concat([
    "button", "link", "menuitem", "menuitemcheckbox", "menuitemradio", "tab", "checkbox",
    "radio", "switch", "option", "combobox", "textbox", "searchbox", "columnheader",
    "rowheader", "heading", "treeitem",
  ].map(function (role) {
    return "[role='" + role + "']";
  })).join(", ");

  // What may take another role: the controls a person operates, never what holds them
  // (a menu named like its button keeps its role).
  const OPERATED = ["a", "button", "input", "select", "textarea", "summary"].concat([
    "button", "link", "menuitem", "tab", "checkbox", "radio", "switch", "option",
    "combobox", "textbox", "searchbox",
  ].map(function (role) {
    return "[role='" + role + "']";
  })).join(", ");

  function normal(text) {
    return (text || "").replace(/\s+/g, " ").trim();
  }

  function nameOf(element) {
    const label = element.getAttribute("aria-label");
    if (label !== null) return normal(label);
    if (element.labels && element.labels.length > 0) return normal(element.labels[0].textContent);
    return normal(element.textContent);
  }

  function named(texts, name) {
    return texts.find(function (text) {
      return name === text || name.startsWith(text + " ");
    });
  }

  function isHidden(name) {
    return named(hidden, name) !== undefined;
  }

  function hide(element) {
    if (!element.hasAttribute("data-drift-hidden")) element.setAttribute("data-drift-hidden", "");
  }

  function scan(root) {
    if (!(root instanceof Element)) return;
    const found = root.matches(CONTROLS) ? [root] : [];
    found.push.apply(found, root.querySelectorAll(CONTROLS));
    found.forEach(function (element) {
      const name = nameOf(element);
      const other = named(renamed, name);
      const operated = element.matches(OPERATED);
      if (operated && other !== undefined && element.getAttribute("role") !== roles[other]) {
        element.setAttribute("role", roles[other]);
      }
      if (!isHidden(name)) return;
      hide(element);
      if (element instanceof HTMLLabelElement && element.control) hide(element.control);
    });
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) {
      scan(record.target instanceof Element ? record.target : record.target.parentElement);
      record.addedNodes.forEach(scan);
    });
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
    attributes: true,
    attributeFilter: ["aria-label"],
  });
  document.addEventListener("DOMContentLoaded", function () {
    scan(document.documentElement);
  });
})();
