/* The "aria" markup of the replica (myopenip portal --markup aria).
 *
 * One script for every page: the "Mes Services" menu and, on a MetaCentrex service's
 * page, the licence search, the selection, the "Actions" menu and the dissociation
 * dialog. Menus and the dialog are attached at the end of <body>, as many component
 * libraries do; the page keeps its own state (rows, ticks) and renders from it.
 */
(function () {
  "use strict";

  const configNode = document.getElementById("x-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};

  /* The page's visible texts are literals in ui() calls: the replica's drift (POST /_test/drift,
   * see drift.py) serves this file with those literals renamed, and nothing else. */
  function ui(text) {
    return text;
  }

  // ------------------------------------------------------------------ popup menus

  let openPopup = null; // {button, node, onClose}

  function closePopup(restoreFocus) {
    if (!openPopup) return;
    const current = openPopup;
    openPopup = null;
    current.node.remove();
    current.button.setAttribute("aria-expanded", "false");
    current.button.removeAttribute("aria-controls");
    if (restoreFocus) current.button.focus();
  }

  /* Build a role=menu with `fill(menu)`, append it to <body> and place it under `button`. */
  function togglePopup(button, id, label, fill) {
    if (openPopup && openPopup.button === button) {
      closePopup(false);
      return;
    }
    closePopup(false);
    const menu = document.createElement("div");
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", label);
    menu.id = id;
    menu.className = "x-popover";
    fill(menu);
    document.body.appendChild(menu);
    const box = button.getBoundingClientRect();
    menu.style.top = box.bottom + window.scrollY + 4 + "px";
    menu.style.left = box.left + window.scrollX + "px";
    button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-controls", id);
    openPopup = { button: button, node: menu };
    const first = menu.querySelector("a, [role='menuitem']");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    if (!openPopup) return;
    if (openPopup.node.contains(event.target) || openPopup.button.contains(event.target)) return;
    closePopup(false);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openPopup) closePopup(true);
  });

  const servicesToggle = document.getElementById("x-services-toggle");
  if (servicesToggle) {
    servicesToggle.addEventListener("click", function () {
      togglePopup(servicesToggle, "x-menu-services", ui("Mes Services"), function (menu) {
        const link = document.createElement("a");
        link.href = config.services;
        link.className = "x-popover__item";
        link.textContent = ui("Paramétrage / Monitoring");
        menu.appendChild(link);
      });
    });
  }

  // ------------------------------------------------------------------ the licences app

  const root = document.getElementById("x-licences");
  if (!root) return;

  const service = root.dataset.service;
  const quirks = config.quirks; // the replica's quirks in force (quirks.py)
  const tabParam = root.dataset.ongletParam;
  const pageParam = root.dataset.pParam;
  const licenceUrl = root.dataset.licenceUrl;
  const tabs = Array.from(root.querySelectorAll("[role='tab']"));
  const panel = document.getElementById("x-panel");
  const form = document.getElementById("x-filters");
  const results = document.getElementById("x-results");
  const pager = document.getElementById("x-pager");
  const actions = document.getElementById("x-actions");
  const selectionInfo = document.getElementById("x-selection");
  const errors = document.getElementById("x-errors");
  const status = document.getElementById("x-status");

  // The results table: the page's own, or none before the first search (search-first, the
  // page holds it in a <template>). `pristine` is its unrendered copy, for new tables.
  const tableTemplate = document.getElementById("x-table-template");
  let grid = tableTemplate ? null : gridOf(document.getElementById("x-table"));
  const pristine = tableTemplate
    ? tableTemplate.content.firstElementChild.cloneNode(true)
    : grid.table.cloneNode(true);

  // The page's state: what the table shows is always rendered from it.
  const state = {
    tab: root.dataset.onglet,
    page: parseInt(root.dataset.p, 10) || 1,
    rows: [], // in the order shown
    selected: new Set(), // licence refs ticked on the page shown
    serial: 0, // the latest change of the results: an answer to an older one is dropped
    applied: filters(), // the filters of the rows shown (those of the last search)
    kept: null, // the rows the page keeps (client-paging, client-filtering), once loaded
    onScreen: null, // the results rendered last (render-twice renders them once more first)
  };

  function api(name) {
    return config.api[name].replace("{ref}", encodeURIComponent(service));
  }

  // ---------------------------------------------------------------- server calls

  class SessionExpired extends Error {}

  const CONNECTION_LOST = ui(
    "La connexion au serveur a été interrompue. Vérifiez le résultat avant de réessayer."
  );

  function goToLogin(loginUrl) {
    const params = new URLSearchParams();
    params.set(config.retour, location.pathname + location.search);
    params.set(config.expiration[0], config.expiration[1]);
    location.assign((loginUrl || config.connexion) + "?" + params.toString());
  }

  async function call(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    } catch (err) {
      throw new Error(CONNECTION_LOST);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (response.status === 401) {
      goToLogin(data && data.login_url);
      throw new SessionExpired("401");
    }
    if (!response.ok) {
      if (data && data.message) throw new Error(data.message);
      throw new Error(
        response.status >= 500
          ? ui("Le service est momentanément indisponible (") + response.status + ")."
          : ui("La demande a été refusée (") + response.status + ")."
      );
    }
    if (data === null) throw new Error(CONNECTION_LOST);
    return data;
  }

  function post(url, payload) {
    return call(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": config.jeton },
      body: JSON.stringify(payload),
    });
  }

  function alertIn(container, message) {
    container.textContent = "";
    const div = document.createElement("div");
    div.className = "x-banner x-banner--danger";
    div.setAttribute("role", "alert");
    div.textContent = message;
    container.appendChild(div);
  }

  function progress(label) {
    const bar = document.createElement("div");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", label);
    bar.className = "x-progress";
    return bar;
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

  function address(page) {
    const params = new URLSearchParams(state.applied);
    params.set(tabParam, state.tab);
    if (page > 1) params.set(pageParam, String(page));
    return location.pathname + "?" + params.toString();
  }

  function gridOf(table) {
    return {
      table: table,
      body: table.querySelector("#x-body"),
      all: table.querySelector("#x-all"),
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

  function startLoading() {
    const current = tableToRender();
    current.body.textContent = "";
    current.table.setAttribute("aria-busy", "true");
    if (!results.querySelector("[role='progressbar']")) {
      results.insertBefore(progress(ui("Recherche des licences")), current.table);
    }
  }

  function stopLoading() {
    const bar = results.querySelector("[role='progressbar']");
    if (bar) bar.remove();
    if (grid) grid.table.setAttribute("aria-busy", "false");
  }

  /* A new search, page or tab: no rows, no ticks, no error. */
  function clearResults() {
    state.rows = [];
    state.selected.clear();
    errors.textContent = "";
    pager.textContent = "";
  }

  /* One request for results; null when it failed (its alert shown) or was overtaken. */
  async function fetchRows(params) {
    const mine = ++state.serial;
    clearResults();
    startLoading();
    updateSelection();
    params.set("tab", state.tab);
    try {
      // post-reads: the search goes as a POST with its filters in the body.
      const data = quirks.postReads
        ? await post(api("licences"), Object.fromEntries(params))
        : await call(api("licences") + "?" + params.toString());
      return mine === state.serial ? data : null;
    } catch (err) {
      if (mine === state.serial && !(err instanceof SessionExpired)) {
        stopLoading();
        alertIn(errors, err.message);
      }
      return null;
    }
  }

  /* A page of results as the server pages them (the default, and page turns without
   * client-paging). */
  async function loadPage(page) {
    const params = new URLSearchParams(state.applied);
    params.set("page", String(page));
    const data = await fetchRows(params);
    if (data) show(data);
  }

  /* Every row at once, kept in the page (client-paging, client-filtering: then unfiltered),
   * and page `page` of them. */
  async function loadAll(page) {
    const params = new URLSearchParams(quirks.clientFiltering ? "" : state.applied);
    params.set("all", "1");
    const data = await fetchRows(params);
    if (!data) return;
    state.kept = data.rows;
    showKept(page);
  }

  /* Page `page` of the kept rows, filtered here under client-filtering: no request. */
  function showKept(page) {
    state.serial++; // an answer still on its way is no longer wanted
    clearResults();
    const rows = quirks.clientFiltering
      ? state.kept.filter(keptRows.matcher(state.applied))
      : state.kept;
    show(keptRows.pageOf(rows, page, quirks.pageSize));
  }

  function show(shown) {
    const serial = state.serial;
    const previous = state.onScreen;
    if (quirks.renderTwice && previous) {
      // render-twice: the results on screen are rendered again first, the new ones a
      // moment later (a framework rendering from its cache, then from the answer).
      state.rows = previous.rows;
      renderRows();
      renderPager(previous);
      stopLoading();
      setTimeout(function () {
        if (serial !== state.serial) return;
        state.onScreen = null; // rendered now, as any answer is
        show(shown);
      }, 100 + random(serial)() * 150);
      return;
    }
    state.onScreen = { rows: shown.rows, page: shown.page, pages: shown.pages, total: shown.total };
    state.page = shown.page;
    state.rows = shown.rows;
    history.replaceState(null, "", address(state.page));
    renderRows();
    renderPager(shown);
    stopLoading();
    // Like many single-page apps, the list settles once more a moment later (here in
    // another order): nodes are replaced, the ticks live in the page's state.
    const delay = 150 + random(serial)() * 150;
    setTimeout(function () {
      if (serial !== state.serial || state.rows.length < 2) return;
      state.rows = reordered(state.rows, serial);
      if (state.onScreen) state.onScreen.rows = state.rows;
      renderRows();
    }, delay);
  }

  /* The results again from the server: first load, tab change, after « Valider ». */
  function reload(page) {
    if (quirks.clientPaging || quirks.clientFiltering) loadAll(page);
    else loadPage(page);
  }

  /* « Rechercher »: the form's filters apply from now on. */
  function search() {
    state.applied = filters();
    if (quirks.clientFiltering && state.kept) showKept(1);
    else reload(1);
  }

  /* « Suivant » / « Précédent ». */
  function turn(page) {
    if (quirks.clientPaging && state.kept) showKept(page);
    else loadPage(page);
  }

  /* search-first: no table, nothing loaded, until « Rechercher ». */
  function awaitSearch() {
    state.serial++;
    state.kept = null;
    clearResults();
    stopLoading();
    if (grid) grid.table.remove();
    grid = null;
    history.replaceState(null, "", address(1));
    updateSelection();
  }

  /* A small seeded generator (mulberry32), so a given search reorders the same way. */
  function random(seed) {
    let a = (seed * 2654435761) >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function reordered(rows, seed) {
    const draw = random(seed + 7919);
    const copy = rows.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(draw() * (i + 1));
      const swap = copy[i];
      copy[i] = copy[j];
      copy[j] = swap;
    }
    const same = copy.every(function (row, index) {
      return row.ref === rows[index].ref;
    });
    return same ? rows.slice().reverse() : copy;
  }

  function cell(text) {
    const div = document.createElement("div");
    div.setAttribute("role", "cell");
    div.className = "x-table__cell";
    if (text) div.textContent = text;
    return div;
  }

  function checkbox(ref) {
    const box = document.createElement("span");
    box.setAttribute("role", "checkbox");
    box.setAttribute("tabindex", "0");
    box.setAttribute("aria-label", ui("Sélectionner ") + ref);
    box.setAttribute("aria-checked", String(state.selected.has(ref)));
    box.className = "x-check";
    box.dataset.ref = ref;
    return box;
  }

  function renderRows() {
    const focused = document.activeElement;
    const inTable = focused && grid && grid.body.contains(focused);
    const focusedRef = inTable ? focused.dataset.ref : null;
    const fragment = document.createDocumentFragment();
    state.rows.forEach(function (row) {
      const line = document.createElement("div");
      line.setAttribute("role", "row");
      line.className = "x-table__row";
      const first = cell("");
      first.classList.add("x-table__cell--check");
      first.appendChild(checkbox(row.ref));
      line.appendChild(first);
      const licence = cell("");
      const link = document.createElement("a");
      link.className = "x-link";
      link.href = licenceUrl.replace("{licence}", encodeURIComponent(row.ref));
      link.textContent = row.ref;
      const kind = document.createElement("span");
      kind.className = "x-muted";
      kind.textContent = row.type;
      licence.append(link, " ", kind);
      line.appendChild(licence);
      line.appendChild(cell(row.sda_display));
      line.appendChild(cell(row.user));
      line.appendChild(cell(row.site));
      const stateCell = cell("");
      const pill = document.createElement("span");
      pill.className = "x-pill " + (row.sda ? "x-pill--actif" : "x-pill--libre");
      pill.textContent = row.state;
      stateCell.appendChild(pill);
      line.appendChild(stateCell);
      fragment.appendChild(line);
    });
    const current = tableToRender();
    current.body.replaceChildren(fragment);
    current.table.setAttribute("aria-busy", "false");
    if (focusedRef) {
      const again = current.body.querySelector("[data-ref='" + focusedRef + "']");
      if (again) again.focus();
    }
    updateSelection();
  }

  function renderPager(data) {
    pager.textContent = "";
    function link(label, page, enabled) {
      if (!enabled) {
        // disabled-next: the same link, disabled, where there is no such page
        const off = document.createElement("span");
        off.className = "x-link x-link--off";
        off.setAttribute("role", "link");
        off.setAttribute("aria-disabled", "true");
        off.textContent = label;
        return off;
      }
      const a = document.createElement("a");
      a.className = "x-link";
      a.href = address(page);
      a.textContent = label;
      a.addEventListener("click", function (event) {
        event.preventDefault();
        turn(page);
      });
      return a;
    }
    if (data.page > 1 || quirks.disabledNext) {
      pager.appendChild(link(ui("Précédent"), data.page - 1, data.page > 1));
    }
    if (data.total > 0 && !quirks.noPageIndicator) {
      const info = document.createElement("span");
      info.className = "x-pager__info";
      const first = (data.page - 1) * data.per_page + 1;
      const last = Math.min(data.page * data.per_page, data.total);
      info.textContent = first + "–" + last + " / " + data.total;
      pager.appendChild(info);
    }
    if (data.page < data.pages || quirks.disabledNext) {
      pager.appendChild(link(ui("Suivant"), data.page + 1, data.page < data.pages));
    }
  }

  // ---------------------------------------------------------------- ticks and actions

  function ticked() {
    // By ref, whatever the order shown.
    return state.rows
      .map(function (row) {
        return row.ref;
      })
      .filter(function (ref) {
        return state.selected.has(ref);
      })
      .sort();
  }

  function updateSelection() {
    const count = state.selected.size;
    const total = state.rows.length;
    if (grid) {
      grid.all.setAttribute(
        "aria-checked",
        total > 0 && count === total ? "true" : count > 0 ? "mixed" : "false"
      );
      grid.all.setAttribute("aria-disabled", String(total === 0));
    }
    actions.setAttribute("aria-disabled", String(count === 0));
    if (count === 0 && openPopup && openPopup.button === actions) closePopup(false);
    selectionInfo.textContent = count + " / " + total;
  }

  function setTicked(ref, on) {
    if (on) state.selected.add(ref);
    else state.selected.delete(ref);
    const box = grid && grid.body.querySelector("[data-ref='" + ref + "']");
    if (box) box.setAttribute("aria-checked", String(on));
  }

  function toggle(box) {
    if (box === grid.all) {
      if (box.getAttribute("aria-disabled") === "true") return;
      const on = state.selected.size !== state.rows.length;
      state.rows.forEach(function (row) {
        setTicked(row.ref, on);
      });
    } else {
      setTicked(box.dataset.ref, !state.selected.has(box.dataset.ref));
    }
    updateSelection();
  }

  // Listeners on the results' container, for whatever table is shown (it may be replaced).
  results.addEventListener("click", function (event) {
    const box = event.target.closest("[role='checkbox']");
    if (box) toggle(box);
  });
  results.addEventListener("keydown", function (event) {
    const box = event.target.closest("[role='checkbox']");
    if (box && (event.key === " " || event.key === "Enter")) {
      event.preventDefault();
      toggle(box);
    }
  });

  actions.addEventListener("click", function () {
    if (actions.getAttribute("aria-disabled") === "true") return;
    togglePopup(actions, "x-menu-actions", ui("Actions"), function (menu) {
      const item = document.createElement("div");
      item.setAttribute("role", "menuitem");
      item.setAttribute("tabindex", "-1");
      item.className = "x-popover__item";
      item.textContent = ui("Dissocier vos numéros");
      item.addEventListener("click", function () {
        closePopup(false);
        openDialog(ticked());
      });
      item.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          item.click();
        }
      });
      menu.appendChild(item);
    });
  });

  // ---------------------------------------------------------------- the dialog

  let dialog = null; // {backdrop, node, part(name)}

  function closeDialog() {
    if (!dialog) return;
    dialog.backdrop.remove();
    dialog.node.remove();
    dialog = null;
    actions.focus();
  }

  async function openDialog(refs) {
    if (refs.length === 0 || dialog) return;
    status.textContent = ""; // a new dissociation: the last result no longer applies
    const template = document.getElementById("x-dialog-template");
    const fragment = template.content.cloneNode(true);
    const backdrop = fragment.querySelector(".x-backdrop");
    const node = fragment.querySelector("[role='dialog']");
    const part = function (name) {
      return node.querySelector("[data-part='" + name + "']");
    };
    dialog = { backdrop: backdrop, node: node, part: part };
    const mine = dialog;
    node.setAttribute("aria-busy", "true");
    document.body.appendChild(fragment);
    // Fade in (CSS transition on opacity) from the next frame on.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        node.classList.add("x-dialog--shown");
        backdrop.classList.add("x-backdrop--shown");
      });
    });
    node.focus();
    part("cancel").addEventListener("click", closeDialog);
    part("validate").addEventListener("click", function () {
      validate(mine);
    });
    node.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !part("cancel").disabled) closeDialog();
    });

    let preview = null;
    try {
      preview = await post(api("apercu"), { licences: refs });
    } catch (err) {
      if (err instanceof SessionExpired) return;
      if (dialog !== mine) return;
      alertIn(part("errors"), err.message);
    }
    if (dialog !== mine) return; // cancelled meanwhile
    part("progress").remove();
    node.setAttribute("aria-busy", "false");
    if (!preview) return;
    fill(mine, preview);
    part("content").hidden = false;
    part("validate").disabled = preview.with_number.length === 0;
  }

  function fill(current, preview) {
    const numbers = current.part("numbers");
    preview.with_number.forEach(function (item) {
      const line = document.createElement("div");
      line.className = "x-number";
      const text = document.createElement("span");
      text.className = "x-number__text";
      const ref = document.createElement("strong");
      ref.textContent = item.ref;
      const number = document.createElement("span");
      number.textContent = item.number_display;
      text.append(ref, " ", number);
      const select = document.createElement("select");
      select.className = "x-input x-input--small";
      select.setAttribute("aria-label", ui("Conserver le numéro ") + item.number_display);
      select.dataset.ref = item.ref;
      [
        ["1", ui("Oui")],
        ["0", ui("Non")],
      ].forEach(function (pair) {
        const option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
      select.value = "1";
      line.append(text, select);
      numbers.appendChild(line);
    });
    const list = current.part("without-list");
    preview.without_number.forEach(function (item) {
      const li = document.createElement("li");
      li.textContent = item.ref + " " + item.type;
      list.appendChild(li);
    });
    current.part("without").hidden = preview.without_number.length === 0;
  }

  async function validate(current) {
    const choices = Array.from(current.part("numbers").querySelectorAll("select")).map(
      function (select) {
        return { ref: select.dataset.ref, keep: select.value === "1" };
      }
    );
    if (choices.length === 0) return;
    const validateButton = current.part("validate");
    const cancelButton = current.part("cancel");
    validateButton.disabled = true;
    cancelButton.disabled = true;
    current.node.setAttribute("aria-busy", "true");
    current.part("errors").textContent = "";
    let result = null;
    try {
      result = await post(api("dissociations"), { licences: choices });
    } catch (err) {
      if (err instanceof SessionExpired) return;
      alertIn(current.part("errors"), err.message);
    }
    current.node.setAttribute("aria-busy", "false");
    cancelButton.disabled = false;
    if (!result) {
      validateButton.disabled = false;
      return;
    }
    closeDialog();
    status.textContent = ui("Numéro(s) dissocié(s) : ") + result.dissociated;
    reload(state.page);
  }

  // ---------------------------------------------------------------- tabs and form

  function selectTab(name, focus) {
    if (name === state.tab) return;
    state.tab = name;
    tabs.forEach(function (tab) {
      const selected = tab.dataset.onglet === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) {
        panel.setAttribute("aria-labelledby", tab.id);
        if (focus) tab.focus();
      }
    });
    form.querySelectorAll("input[type='text']").forEach(function (input) {
      input.value = "";
    });
    form.elements.namedItem(tabParam).value = name;
    state.applied = filters();
    state.kept = null;
    if (!quirks.statusStays) status.textContent = ""; // status-stays: a page-level bar
    if (quirks.searchFirst) awaitSearch();
    else reload(1);
  }

  tabs.forEach(function (tab, index) {
    tab.addEventListener("click", function () {
      selectTab(tab.dataset.onglet, false);
    });
    tab.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        selectTab(tab.dataset.onglet, true);
        return;
      }
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const step = event.key === "ArrowRight" ? 1 : -1;
      selectTab(tabs[(index + step + tabs.length) % tabs.length].dataset.onglet, true);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search();
  });

  // search-first: the page itself may come from a search (the form's fields in its address).
  if (quirks.searchFirst && root.dataset.searched !== "true") awaitSearch();
  else reload(state.page);
})();
