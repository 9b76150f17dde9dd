/* A MetaCentrex service's page: the Utilisateurs / Groupements tabs, the licence search
 * (loaded by fetch), the ticks, the Actions menu and the "Dissocier vos numéros" dialog. */
(function () {
  "use strict";
  const root = document.getElementById("licences-app");
  if (!root) return;

  /* The page's visible texts are literals in ui() calls: the replica's drift (POST /_test/drift,
   * see drift.py) serves this file with those literals renamed, and nothing else. */
  function ui(text) {
    return text;
  }

  const service = root.dataset.service;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tabs = Array.from(root.querySelectorAll('[role="tab"]'));
  const panel = document.getElementById("licences-panel");
  const form = document.getElementById("licence-filters");
  const table = document.getElementById("licences-table");
  const body = document.getElementById("licences-body");
  const pager = document.getElementById("licences-pagination");
  const selectAll = document.getElementById("select-all");
  const selectionCount = document.getElementById("selection-count");
  const actionsButton = document.getElementById("actions-button");
  const actionsMenu = document.getElementById("actions-menu");
  const dissociateItem = document.getElementById("dissociate-item");
  const dialogLoading = document.getElementById("dialog-loading");
  const status = document.getElementById("status");
  const resultsError = document.getElementById("results-error");
  const dialog = document.getElementById("dissociation-dialog");
  const dialogRows = document.getElementById("dissociation-rows");
  const nothingToDo = document.getElementById("nothing-to-dissociate");
  const withoutSection = document.getElementById("without-number");
  const withoutRows = document.getElementById("without-number-rows");
  const dialogError = document.getElementById("dialog-error");
  const cancelButton = document.getElementById("dialog-cancel");
  const validateButton = document.getElementById("dialog-validate");

  let tab = root.dataset.tab;
  let page = parseInt(root.dataset.page, 10) || 1;
  let searchSerial = 0;

  // ---------------------------------------------------------------- server calls

  class SessionExpired extends Error {}

  function goToLogin() {
    const next = location.pathname + location.search;
    location.assign("/login?expired=1&next=" + encodeURIComponent(next));
  }

  /* fetch + JSON; throws an Error whose message is the portal's own text. */
  async function call(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    } catch (err) {
      throw new Error(
        ui("La connexion au serveur a été interrompue. Vérifiez le résultat avant de réessayer.")
      );
    }
    if (response.status === 401) {
      goToLogin();
      throw new SessionExpired("session expirée");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const text = data && data.message ? data.message : ui("Erreur technique (HTTP ") + response.status + ").";
      throw new Error(text);
    }
    if (data === null) {
      throw new Error(
        ui("La connexion au serveur a été interrompue. Vérifiez le résultat avant de réessayer.")
      );
    }
    return data;
  }

  function post(url, payload) {
    return call(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    });
  }

  function showAlert(container, message) {
    container.textContent = "";
    const p = document.createElement("p");
    p.className = "alert";
    p.setAttribute("role", "alert");
    p.textContent = message;
    container.appendChild(p);
  }

  // ---------------------------------------------------------------- search

  function filters() {
    const params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim()) params.set(key, String(value).trim());
    });
    return params;
  }

  function pageUrl(number) {
    const params = filters();
    params.set("tab", tab);
    if (number > 1) params.set("page", String(number));
    return location.pathname + "?" + params.toString();
  }

  function setLoading() {
    table.setAttribute("aria-busy", "true");
    body.textContent = "";
    const tr = document.createElement("tr");
    tr.className = "loading-row";
    const td = document.createElement("td");
    td.colSpan = 6;
    const spinner = document.createElement("span");
    spinner.className = "spinner";
    spinner.setAttribute("aria-hidden", "true");
    td.appendChild(spinner);
    td.appendChild(document.createTextNode(ui("Chargement…")));
    tr.appendChild(td);
    body.appendChild(tr);
    pager.textContent = "";
    updateSelection();
  }

  async function search(number) {
    const serial = ++searchSerial;
    page = number;
    history.replaceState(null, "", pageUrl(page));
    resultsError.textContent = "";
    setLoading();
    const params = filters();
    params.set("tab", tab);
    params.set("page", String(page));
    let data;
    try {
      data = await call("/api/services/" + encodeURIComponent(service) + "/licences?" + params);
    } catch (err) {
      if (serial !== searchSerial || err instanceof SessionExpired) return;
      body.textContent = "";
      table.setAttribute("aria-busy", "false");
      showAlert(resultsError, err.message);
      return;
    }
    if (serial !== searchSerial) return; // a newer search has started
    page = data.page;
    renderRows(data.rows);
    renderPager(data);
    table.setAttribute("aria-busy", "false");
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function renderRows(rows) {
    body.textContent = "";
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell(ui("Aucune licence ne correspond à votre recherche."));
      td.colSpan = 6;
      td.className = "empty";
      tr.appendChild(td);
      body.appendChild(tr);
    }
    rows.forEach(function (row) {
      const tr = document.createElement("tr");
      tr.dataset.licence = row.ref;
      const check = document.createElement("td");
      check.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "row-check";
      box.value = row.ref;
      box.setAttribute("aria-label", ui("Sélectionner ") + row.ref);
      box.addEventListener("change", updateSelection);
      check.appendChild(box);
      tr.appendChild(check);
      const licenceCell = cell("");
      const link = document.createElement("a");
      link.href = location.pathname + "/licences/" + encodeURIComponent(row.ref);
      link.textContent = row.licence;
      licenceCell.appendChild(link);
      tr.appendChild(licenceCell);
      tr.appendChild(cell(row.sda_display));
      tr.appendChild(cell(row.user));
      tr.appendChild(cell(row.site));
      const stateCell = cell("");
      const badge = document.createElement("span");
      badge.className = "badge " + (row.sda ? "state-affectee" : "state-non-affectee");
      badge.textContent = row.state;
      stateCell.appendChild(badge);
      tr.appendChild(stateCell);
      body.appendChild(tr);
    });
    updateSelection();
  }

  function renderPager(data) {
    pager.textContent = "";
    function link(label, number, rel) {
      const a = document.createElement("a");
      a.href = pageUrl(number);
      a.rel = rel;
      a.textContent = label;
      a.addEventListener("click", function (event) {
        event.preventDefault();
        search(number);
      });
      return a;
    }
    if (data.page > 1) pager.appendChild(link(ui("Précédent"), data.page - 1, "prev"));
    const info = document.createElement("span");
    info.className = "page-info";
    info.textContent =
      ui("Page") + " " + data.page + " " + ui("sur") + " " + data.pages + " · " + data.total +
      " " + (data.total > 1 ? ui("licences") : ui("licence"));
    pager.appendChild(info);
    if (data.page < data.pages) pager.appendChild(link(ui("Suivant"), data.page + 1, "next"));
  }

  // ---------------------------------------------------------------- ticks and actions

  function ticked() {
    return Array.from(body.querySelectorAll(".row-check:checked")).map(function (box) {
      return box.value;
    });
  }

  function updateSelection() {
    const boxes = body.querySelectorAll(".row-check");
    const count = ticked().length;
    selectAll.checked = boxes.length > 0 && count === boxes.length;
    selectAll.indeterminate = count > 0 && count < boxes.length;
    selectAll.disabled = boxes.length === 0;
    actionsButton.disabled = count === 0;
    if (count === 0) closeActions();
    selectionCount.textContent =
      count === 0 ? ui("Aucune licence sélectionnée")
        : count + " " + (count > 1 ? ui("licences sélectionnées") : ui("licence sélectionnée"));
  }

  selectAll.addEventListener("change", function () {
    body.querySelectorAll(".row-check").forEach(function (box) {
      box.checked = selectAll.checked;
    });
    updateSelection();
  });

  function closeActions() {
    actionsMenu.hidden = true;
    actionsButton.setAttribute("aria-expanded", "false");
  }

  actionsButton.addEventListener("click", function (event) {
    event.stopPropagation();
    const open = actionsMenu.hidden;
    actionsMenu.hidden = !open;
    actionsButton.setAttribute("aria-expanded", String(open));
    if (open) dissociateItem.focus();
  });
  document.addEventListener("click", function (event) {
    if (!actionsMenu.hidden && !actionsMenu.contains(event.target)) closeActions();
  });
  actionsMenu.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeActions();
      actionsButton.focus();
    }
  });

  // ---------------------------------------------------------------- the dialog

  let previewing = false;

  dissociateItem.addEventListener("click", async function () {
    closeActions();
    const refs = ticked();
    if (refs.length === 0 || previewing) return;
    previewing = true;
    status.textContent = ""; // a new dissociation: the last result no longer applies
    actionsButton.disabled = true;
    dialogLoading.hidden = false;
    dialogError.textContent = "";
    dialogRows.textContent = "";
    withoutRows.textContent = "";
    withoutSection.hidden = true;
    nothingToDo.hidden = true;
    let preview = null;
    try {
      preview = await post(
        "/api/services/" + encodeURIComponent(service) + "/dissociation-preview",
        { licences: refs }
      );
    } catch (err) {
      if (err instanceof SessionExpired) return;
      showAlert(dialogError, err.message);
    } finally {
      previewing = false;
      dialogLoading.hidden = true;
      updateSelection();
    }
    if (preview) fillDialog(preview);
    validateButton.disabled = !preview || preview.with_number.length === 0;
    cancelButton.disabled = false;
    dialog.showModal();
  });

  function fillDialog(preview) {
    preview.with_number.forEach(function (item) {
      const li = document.createElement("li");
      li.className = "dissociation-row";
      li.dataset.licence = item.ref;
      const label = document.createElement("span");
      label.className = "row-label";
      label.textContent = item.ref + " " + item.number_display;
      li.appendChild(label);
      const choice = document.createElement("label");
      choice.className = "keep-choice";
      choice.appendChild(document.createTextNode(ui("Conserver le numéro ")));
      const select = document.createElement("select");
      select.setAttribute("aria-label", ui("Conserver le numéro ") + item.number_display);
      select.dataset.licence = item.ref;
      [["oui", ui("Oui")], ["non", ui("Non")]].forEach(function (pair) {
        const option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
      select.value = "oui";
      choice.appendChild(select);
      li.appendChild(choice);
      dialogRows.appendChild(li);
    });
    nothingToDo.hidden = preview.with_number.length > 0;
    preview.without_number.forEach(function (item) {
      const li = document.createElement("li");
      li.textContent = item.ref + " " + item.type;
      withoutRows.appendChild(li);
    });
    withoutSection.hidden = preview.without_number.length === 0;
  }

  cancelButton.addEventListener("click", function () {
    dialog.close();
  });

  validateButton.addEventListener("click", async function () {
    const choices = Array.from(dialogRows.querySelectorAll("select")).map(function (select) {
      return { ref: select.dataset.licence, keep: select.value === "oui" };
    });
    if (choices.length === 0) return;
    validateButton.disabled = true;
    cancelButton.disabled = true;
    dialog.setAttribute("aria-busy", "true");
    dialogError.textContent = "";
    let result = null;
    try {
      result = await post(
        "/api/services/" + encodeURIComponent(service) + "/dissociations",
        { licences: choices }
      );
    } catch (err) {
      if (err instanceof SessionExpired) return;
      showAlert(dialogError, err.message);
    } finally {
      dialog.removeAttribute("aria-busy");
      cancelButton.disabled = false;
    }
    if (!result) {
      validateButton.disabled = false;
      return;
    }
    dialog.close();
    status.textContent = ui("Numéro(s) dissocié(s) : ") + result.dissociated;
    search(page);
  });

  // ---------------------------------------------------------------- tabs and form

  function selectTab(name, focus) {
    if (name === tab) return;
    tab = name;
    tabs.forEach(function (t) {
      const selected = t.dataset.tab === name;
      t.setAttribute("aria-selected", String(selected));
      t.tabIndex = selected ? 0 : -1;
      if (selected) {
        panel.setAttribute("aria-labelledby", t.id);
        if (focus) t.focus();
      }
    });
    form.reset();
    form.querySelectorAll("input").forEach(function (input) {
      input.value = "";
    });
    status.textContent = "";
    search(1);
  }

  tabs.forEach(function (t, index) {
    t.addEventListener("click", function () {
      selectTab(t.dataset.tab, false);
    });
    t.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const step = event.key === "ArrowRight" ? 1 : -1;
      const other = tabs[(index + step + tabs.length) % tabs.length];
      selectTab(other.dataset.tab, true);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search(1);
  });

  search(page);
})();
