/* A MetaCentrex service's page: the Utilisateurs / Groupements tabs, the licence search
 * (loaded by fetch), the ticks, the Actions menu and the "Dissocier vos numéros" dialog.
 * The replica's quirks (data-quirks, see quirks.py) change how the results load and show:
 * rows kept in the page (client-paging, client-filtering), no table before the first
 * search (search-first), a new table at every render (replace-table), disabled page links
 * (disabled-next), no page indicator (no-page-indicator), the page size, searches sent as
 * POST requests (post-reads), the previous results rendered once more before the new ones
 * (render-twice). */
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
  const quirks = JSON.parse(root.dataset.quirks);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tabs = Array.from(root.querySelectorAll('[role="tab"]'));
  const panel = document.getElementById("licences-panel");
  const form = document.getElementById("licence-filters");
  const results = document.getElementById("licences-results");
  const pager = document.getElementById("licences-pagination");
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

  // The results table: the page's own, or none before the first search (search-first, the
  // page holds it in a <template>). `pristine` is its unrendered copy, for new tables.
  const tableTemplate = document.getElementById("licences-table-template");
  let grid = tableTemplate ? null : gridOf(document.getElementById("licences-table"));
  const pristine = tableTemplate
    ? tableTemplate.content.firstElementChild.cloneNode(true)
    : grid.table.cloneNode(true);

  let tab = root.dataset.tab;
  let page = parseInt(root.dataset.page, 10) || 1;
  let applied = filters(); // the filters of the results shown (those of the last search)
  let kept = null; // the rows the page keeps (client-paging, client-filtering), once loaded
  let serial = 0; // the latest change of the results: an answer to an older one is dropped

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

  // ---------------------------------------------------------------- the results table

  function gridOf(table) {
    return {
      table: table,
      body: table.querySelector("tbody"),
      selectAll: table.querySelector("#select-all"),
    };
  }

  /* The table to render into: the one shown, or a new one in its place when there is none
   * yet (search-first) or every render replaces it (replace-table). */
  function tableToRender() {
    if (grid && !quirks.replaceTable) return grid;
    const table = pristine.cloneNode(true);
    if (grid) grid.table.replaceWith(table);
    else results.appendChild(table);
    grid = gridOf(table);
    return grid;
  }

  function setLoading() {
    const current = tableToRender();
    current.table.setAttribute("aria-busy", "true");
    current.body.textContent = "";
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
    current.body.appendChild(tr);
    pager.textContent = "";
    updateSelection();
  }

  function showError(message) {
    const current = tableToRender();
    current.body.textContent = "";
    current.table.setAttribute("aria-busy", "false");
    showAlert(resultsError, message);
    updateSelection();
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function renderRows(rows) {
    const current = tableToRender();
    current.body.textContent = "";
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell(ui("Aucune licence ne correspond à votre recherche."));
      td.colSpan = 6;
      td.className = "empty";
      tr.appendChild(td);
      current.body.appendChild(tr);
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
      current.body.appendChild(tr);
    });
    current.table.setAttribute("aria-busy", "false");
    updateSelection();
  }

  function renderPager(shown) {
    pager.textContent = "";
    if (shown.page > 1 || quirks.disabledNext) {
      pager.appendChild(pageLink(ui("Précédent"), shown.page - 1, "prev", shown.page > 1));
    }
    if (!quirks.noPageIndicator) {
      const info = document.createElement("span");
      info.className = "page-info";
      info.textContent =
        ui("Page") + " " + shown.page + " " + ui("sur") + " " + shown.pages + " · " +
        shown.total + " " + (shown.total > 1 ? ui("licences") : ui("licence"));
      pager.appendChild(info);
    }
    if (shown.page < shown.pages || quirks.disabledNext) {
      pager.appendChild(pageLink(ui("Suivant"), shown.page + 1, "next", shown.page < shown.pages));
    }
  }

  /* A link to another page; where there is none (disabled-next), the same link disabled:
   * no href, its role and name kept, aria-disabled. */
  function pageLink(label, number, rel, enabled) {
    const a = document.createElement("a");
    a.textContent = label;
    if (!enabled) {
      a.setAttribute("role", "link");
      a.setAttribute("aria-disabled", "true");
      a.className = "disabled";
      return a;
    }
    a.href = pageUrl(number);
    a.rel = rel;
    a.addEventListener("click", function (event) {
      event.preventDefault();
      turn(number);
    });
    return a;
  }

  // ---------------------------------------------------------------- search

  /* The filled filter fields (not the form's hidden tab, there for a submission made
   * before this script runs: the browser's own GET of the page then keeps the tab). */
  function filters() {
    const params = new URLSearchParams();
    form.querySelectorAll("input[type='text']").forEach(function (input) {
      if (input.value.trim()) params.set(input.name, input.value.trim());
    });
    return params;
  }

  function pageUrl(number) {
    const params = new URLSearchParams(applied);
    params.set("tab", tab);
    if (number > 1) params.set("page", String(number));
    return location.pathname + "?" + params.toString();
  }

  /* One request for results; null when it failed (its alert shown) or was overtaken. */
  async function fetchRows(params) {
    const mine = ++serial;
    resultsError.textContent = "";
    setLoading();
    params.set("tab", tab);
    const url = "/api/services/" + encodeURIComponent(service) + "/licences";
    try {
      // post-reads: the search goes as a POST with its filters in the body.
      const data = quirks.postReads
        ? await post(url, Object.fromEntries(params))
        : await call(url + "?" + params);
      return mine === serial ? data : null;
    } catch (err) {
      if (mine === serial && !(err instanceof SessionExpired)) showError(err.message);
      return null;
    }
  }

  /* A page of results as the server pages them (the default, and page turns without
   * client-paging). */
  async function loadPage(number) {
    const params = new URLSearchParams(applied);
    params.set("page", String(number));
    const data = await fetchRows(params);
    if (data) show(data);
  }

  /* Every row at once, kept in the page (client-paging, client-filtering: then unfiltered),
   * and page `number` of them. */
  async function loadAll(number) {
    const params = new URLSearchParams(quirks.clientFiltering ? "" : applied);
    params.set("all", "1");
    const data = await fetchRows(params);
    if (!data) return;
    kept = data.rows;
    showKept(number);
  }

  /* Page `number` of the kept rows, filtered here under client-filtering: no request. */
  function showKept(number) {
    serial++; // an answer still on its way is no longer wanted
    resultsError.textContent = "";
    const rows = quirks.clientFiltering ? kept.filter(keptRows.matcher(applied)) : kept;
    show(keptRows.pageOf(rows, number, quirks.pageSize));
  }

  let onScreen = null; // the results rendered last (render-twice renders them once more first)

  function show(shown) {
    page = shown.page;
    history.replaceState(null, "", pageUrl(page));
    const previous = onScreen;
    if (quirks.renderTwice && previous) {
      // render-twice: the results on screen are rendered again first, the new ones a
      // moment later (a framework rendering from its cache, then from the answer).
      const mine = serial;
      renderRows(previous.rows);
      renderPager(previous);
      setTimeout(function () {
        if (mine !== serial) return;
        onScreen = shown;
        renderRows(shown.rows);
        renderPager(shown);
      }, 100 + Math.random() * 150);
      return;
    }
    onScreen = shown;
    renderRows(shown.rows);
    renderPager(shown);
  }

  /* The results again from the server: first load, tab change, after « Valider ». */
  function reload(number) {
    if (quirks.clientPaging || quirks.clientFiltering) loadAll(number);
    else loadPage(number);
  }

  /* « Rechercher »: the form's filters apply from now on. */
  function search() {
    applied = filters();
    if (quirks.clientFiltering && kept) showKept(1);
    else reload(1);
  }

  /* « Suivant » / « Précédent ». */
  function turn(number) {
    if (quirks.clientPaging && kept) showKept(number);
    else loadPage(number);
  }

  /* search-first: no table, nothing loaded, until « Rechercher ». */
  function awaitSearch() {
    serial++;
    kept = null;
    if (grid) grid.table.remove();
    grid = null;
    pager.textContent = "";
    resultsError.textContent = "";
    history.replaceState(null, "", pageUrl(1));
    updateSelection();
  }

  // ---------------------------------------------------------------- ticks and actions

  function ticked() {
    if (!grid) return [];
    return Array.from(grid.body.querySelectorAll(".row-check:checked")).map(function (box) {
      return box.value;
    });
  }

  function updateSelection() {
    const boxes = grid ? grid.body.querySelectorAll(".row-check") : [];
    const count = ticked().length;
    if (grid) {
      grid.selectAll.checked = boxes.length > 0 && count === boxes.length;
      grid.selectAll.indeterminate = count > 0 && count < boxes.length;
      grid.selectAll.disabled = boxes.length === 0;
    }
    actionsButton.disabled = count === 0;
    if (count === 0) closeActions();
    selectionCount.textContent =
      count === 0 ? ui("Aucune licence sélectionnée")
        : count + " " + (count > 1 ? ui("licences sélectionnées") : ui("licence sélectionnée"));
  }

  // One listener for whatever table is shown (it may be replaced at every render).
  results.addEventListener("change", function (event) {
    if (!grid) return;
    if (event.target === grid.selectAll) {
      grid.body.querySelectorAll(".row-check").forEach(function (box) {
        box.checked = grid.selectAll.checked;
      });
    }
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
    reload(page);
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
    form.querySelectorAll("input[type='text']").forEach(function (input) {
      input.value = "";
    });
    form.elements.namedItem("tab").value = name;
    applied = filters();
    kept = null;
    if (!quirks.statusStays) status.textContent = ""; // status-stays: a page-level bar
    if (quirks.searchFirst) awaitSearch();
    else reload(1);
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
    search();
  });

  // search-first: the page itself may come from a search (the form's fields in its address).
  if (quirks.searchFirst && root.dataset.searched !== "true") awaitSearch();
  else reload(page);
})();
