// The segment form's filter editor. The provider is the first, fixed condition (a child's comes
// from its parent); below it, field / operator / value rows, and the VQL box, kept in step
// through the page's check endpoint (segments:filter-check), which cleans the filter with the
// same form as saving: what the check accepts, saving accepts. Value suggestions come from the
// Archera filter-values endpoint (the dimension-values table).
(function () {
  const csrfToken = () => window.costline.csrfToken();  // static/js/app.js

  function debounce(fn, ms) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function option(value, label, selected) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    if (selected) element.selected = true;
    return element;
  }

  function init(root, config) {
    const orgId = root.dataset.organization;
    const providerSelect = document.getElementById(root.dataset.providerInput);
    const parentSelect = document.getElementById(root.dataset.parentInput);
    const vqlBox = document.getElementById(root.dataset.vqlInput);
    const rowsBox = root.querySelector("[data-rows]");
    const rowsNote = root.querySelector("[data-rows-note]");
    const providerNote = root.querySelector("[data-provider-note]");
    const status = root.querySelector("[data-status]");
    const addButton = root.querySelector("[data-add-row]");
    const operators = config.operators;
    const tagOperators = [...config.operators, ...config.tag_operators];
    let values = {};
    let request = 0;

    const provider = () => providerSelect.value;

    function inheritedProvider() {
      const parent = parentSelect && config.parents[parentSelect.value];
      return parent && parent.provider ? parent : null;
    }

    // A child's provider is its parent's: shown, fixed, and not sent (the server takes it
    // from the parent either way).
    function applyParent() {
      const report = document.querySelector("[data-report-settings]");
      if (report && parentSelect) {
        report.disabled = Boolean(parentSelect.value);
        report.querySelector("[data-report-note]").hidden = !parentSelect.value;
      }
      const parent = inheritedProvider();
      providerSelect.disabled = Boolean(parent);
      if (parent) {
        providerSelect.value = parent.provider;
        providerNote.textContent = `from the parent segment “${parent.name}”`;
      } else {
        providerNote.textContent = "";
      }
      refreshRowsAllowed();
    }

    function fieldChoices(current) {
      const choices = (config.fields[provider()] || []).map(([name, label]) => [name, label]);
      Object.keys(values.tags || {}).sort().forEach((key) => choices.push([`tag:${key}`, `Tag: ${key}`]));
      if (current && !choices.some(([name]) => name === current)) {
        choices.push([current, current.startsWith("tag:") ? `Tag: ${current.slice(4)}` : current]);
      }
      return choices;
    }

    function suggestions(field) {
      if (field.startsWith("tag:")) return (values.tags || {})[field.slice(4)] || [];
      return values[field] || [];
    }

    function addRow(condition) {
      const row = document.createElement("div");
      row.className = "filter-row";
      row.dataset.row = "";
      const field = condition?.field || (config.fields[provider()] || [["service"]])[0][0];
      const fieldSelect = document.createElement("select");
      fieldSelect.className = "row-field";
      fieldSelect.setAttribute("aria-label", "Field");
      fieldChoices(field).forEach(([name, label]) => fieldSelect.appendChild(option(name, label, name === field)));
      const opSelect = document.createElement("select");
      opSelect.className = "row-op";
      opSelect.setAttribute("aria-label", "Operator");
      const fillOperators = () => {
        const chosen = condition?.op || opSelect.value || "=";
        opSelect.innerHTML = "";
        const list = fieldSelect.value.startsWith("tag:") ? tagOperators : operators;
        list.forEach(([value, label]) => opSelect.appendChild(option(value, label, value === chosen)));
      };
      fillOperators();
      const input = document.createElement("input");
      input.className = "row-value";
      input.setAttribute("aria-label", "Value");
      input.placeholder = "value (comma-separated for lists)";
      const listId = `values-${Math.random().toString(36).slice(2)}`;
      input.setAttribute("list", listId);
      const datalist = document.createElement("datalist");
      datalist.id = listId;
      const fillValues = () => {
        datalist.innerHTML = "";
        suggestions(fieldSelect.value).forEach((value) => datalist.appendChild(option(value, value)));
      };
      fillValues();
      const value = condition?.value;
      input.value = Array.isArray(value) ? value.join(", ") : (value ?? "");
      const presence = () => { input.hidden = opSelect.value === "exists" || opSelect.value === "not_exists"; };
      presence();
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove this condition");
      remove.addEventListener("click", () => { row.remove(); fromRows(); });
      fieldSelect.addEventListener("change", () => { fillOperators(); fillValues(); fromRows(); });
      opSelect.addEventListener("change", () => { presence(); fromRows(); });
      input.addEventListener("input", debounce(fromRows, 400));
      row.append(fieldSelect, opSelect, input, datalist, remove);
      rowsBox.appendChild(row);
    }

    function rows() {
      return [...rowsBox.querySelectorAll("[data-row]")].map((row) => {
        const op = row.querySelector(".row-op").value;
        const field = row.querySelector(".row-field").value;
        if (op === "exists" || op === "not_exists") return { field, op };
        const raw = row.querySelector(".row-value").value.trim();
        const value = op === "in" || op === "not_in"
          ? raw.split(",").map((item) => item.trim()).filter(Boolean)
          : raw;
        return { field, op, value };
      }).filter((condition) => condition.value === undefined || condition.value.length > 0);
    }

    function show(kind, text) {
      status.className = `filter-status ${kind}`;
      status.textContent = text;
    }

    function refreshRowsAllowed() {
      addButton.disabled = !provider();
      if (!provider()) show("muted", "Choose the provider first, or write VQL below.");
    }

    async function check(fields) {
      const body = new URLSearchParams();
      body.set("provider", provider());
      if (parentSelect) body.set("parent", parentSelect.value);
      Object.entries(fields).forEach(([key, value]) => body.set(key, value));
      const mine = ++request;
      const response = await fetch(config.check_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
        body,
      });
      const result = await response.json();
      return mine === request ? result : null;  // a later check is under way: ignore this one
    }

    function describe(result) {
      return `Valid · ${result.matching_rows.toLocaleString()} cost rows, `
        + `${result.matching_cost} billed in the last ${result.days} days`;
    }

    function showRows(list) {
      rowsBox.innerHTML = "";
      const fits = Array.isArray(list);
      rowsNote.hidden = fits;
      rowsBox.hidden = !fits;
      if (fits) list.forEach((condition) => addRow(condition));
      addButton.disabled = !fits || !provider();
    }

    async function fromRows() {
      if (!provider()) { refreshRowsAllowed(); return; }
      const conditions = rows();
      const result = await check({ rows: conditions.length ? JSON.stringify(conditions) : "", filter: "" });
      if (!result) return;
      if (result.ok) {
        vqlBox.value = result.vql;
        show("ok", describe(result));
      } else {
        show("error", result.error);
      }
    }

    async function fromVql() {
      const result = await check({ filter: vqlBox.value });
      if (!result) return;
      if (!result.ok) { show("error", result.error); return; }
      if (result.provider && !provider()) {
        providerSelect.value = result.provider;
        await loadValues();
      }
      showRows(result.rows);
      const scope = provider() ? `${providerSelect.selectedOptions[0].textContent} ` : "";
      show("ok", vqlBox.value.trim() ? describe(result)
        : `No conditions: the segment takes every ${scope}cost row its parent takes. ${describe(result)}`);
    }

    async function loadValues() {
      values = {};
      if (!provider() || !orgId) return;
      const response = await fetch(
        `/beta/v1/org/${orgId}/segments/filters?provider=${encodeURIComponent(provider())}`,
        { credentials: "same-origin" });
      if (response.ok) values = await response.json();
    }

    addButton.addEventListener("click", () => { addRow(); fromRows(); });
    vqlBox.addEventListener("input", debounce(fromVql, 400));
    providerSelect.addEventListener("change", async () => {
      await loadValues();
      refreshRowsAllowed();
      if (rowsBox.querySelector("[data-row]")) fromRows(); else fromVql();
    });
    if (parentSelect) {
      parentSelect.addEventListener("change", async () => {
        applyParent();
        await loadValues();
        fromVql();
      });
    }
    applyParent();
    loadValues().then(fromVql);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("segment-filter-config");
    if (!source) return;
    const config = JSON.parse(source.textContent);
    document.querySelectorAll("[data-filter-editor]").forEach((root) => init(root, config));
  });
})();
