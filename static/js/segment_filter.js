// The segment form's filter editor: a field / operator / value row builder and a VQL box, kept in
// step through POST /api/v1/filters/validate (the same parser the APIs use). Value pickers are
// fed by the Archera filter-values endpoint, which answers from the dimension-values table.
(function () {
  const OPERATORS = [
    ["=", "is"], ["!=", "is not"], ["in", "is one of"], ["not_in", "is none of"],
    ["contains", "contains"], ["not_contains", "does not contain"],
  ];
  const FIELD_LABELS = {
    integration_id: "Integration", account_id: "Account", service: "Service", region: "Region",
    operating_system: "Operating system", tenancy: "Tenancy", instance_family: "Instance family",
  };

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function debounce(fn, ms) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function init(root) {
    const orgId = root.dataset.organization;
    const providerSelect = document.getElementById(root.dataset.providerInput);
    const vqlBox = document.getElementById(root.dataset.vqlInput);
    const rowsBox = root.querySelector("[data-rows]");
    const status = root.querySelector("[data-status]");
    const addButton = root.querySelector("[data-add-row]");
    let values = {};

    function provider() { return providerSelect ? providerSelect.value : ""; }

    function fieldOptions() {
      const names = Object.keys(values).filter((name) => name !== "tags");
      const tags = Object.keys(values.tags || {}).map((key) => `tag:${key}`);
      return [...names, ...tags];
    }

    function valueList(field) {
      if (field.startsWith("tag:")) return (values.tags || {})[field.slice(4)] || [];
      return values[field] || [];
    }

    function makeSelect(options, selected, className) {
      const select = document.createElement("select");
      select.className = className;
      options.forEach(([value, label]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = label;
        if (value === selected) option.selected = true;
        select.appendChild(option);
      });
      return select;
    }

    function addRow(condition) {
      const row = document.createElement("div");
      row.className = "filter-row";
      row.dataset.row = "";
      const fields = fieldOptions();
      const field = condition?.field || fields[0] || "service";
      const fieldSelect = makeSelect(
        fields.map((name) => [name, FIELD_LABELS[name] || name.replace("tag:", "Tag: ")]),
        field, "row-field");
      const opSelect = makeSelect(OPERATORS, condition?.op || "=", "row-op");
      const input = document.createElement("input");
      input.className = "row-value";
      input.placeholder = "value (comma-separated for lists)";
      const listId = `values-${Math.random().toString(36).slice(2)}`;
      input.setAttribute("list", listId);
      const datalist = document.createElement("datalist");
      datalist.id = listId;
      const fillValues = () => {
        datalist.innerHTML = "";
        valueList(fieldSelect.value).forEach((value) => {
          const option = document.createElement("option");
          option.value = value;
          datalist.appendChild(option);
        });
      };
      fillValues();
      const value = condition?.value;
      input.value = Array.isArray(value) ? value.join(", ") : (value || "");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small";
      remove.textContent = "Remove";
      remove.addEventListener("click", () => { row.remove(); fromRows(); });
      fieldSelect.addEventListener("change", () => { fillValues(); fromRows(); });
      opSelect.addEventListener("change", fromRows);
      input.addEventListener("input", debounce(fromRows, 400));
      row.append(fieldSelect, opSelect, input, datalist, remove);
      rowsBox.appendChild(row);
    }

    function rows() {
      return [...rowsBox.querySelectorAll("[data-row]")].map((row) => {
        const op = row.querySelector(".row-op").value;
        const raw = row.querySelector(".row-value").value.trim();
        const value = op === "in" || op === "not_in"
          ? raw.split(",").map((item) => item.trim()).filter(Boolean)
          : raw;
        return { field: row.querySelector(".row-field").value, op, value };
      }).filter((condition) => condition.value.length > 0);
    }

    function show(kind, text) {
      status.className = `filter-status ${kind}`;
      status.textContent = text;
    }

    async function validate(body) {
      const response = await fetch("/api/v1/filters/validate", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
      return [response.ok, await response.json()];
    }

    function describe(result) {
      const cost = Number(result.matching_cost).toLocaleString(undefined,
        { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      return `Valid · ${result.matching_rows.toLocaleString()} cost rows, ${cost} billed in the last 30 days`;
    }

    async function fromRows() {
      const conditions = rows();
      if (!provider()) {
        show("muted", "Choose a provider to build the filter from rows, or write VQL below.");
        return;
      }
      const [ok, result] = await validate({ provider: provider(), filters: conditions });
      if (ok) {
        vqlBox.value = result.vql;
        show("ok", describe(result));
      } else {
        show("error", result.detail || result.message || JSON.stringify(result));
      }
    }

    async function fromVql() {
      const text = vqlBox.value.trim();
      if (!text) { show("muted", "No filter: the segment takes every cost row of its parent."); return; }
      const [ok, result] = await validate({ vql: text });
      if (ok) {
        show("ok", describe(result));
        if (Array.isArray(result.filters) && provider()) {
          rowsBox.innerHTML = "";
          result.filters.forEach((condition) => { if (condition.field) addRow(condition); });
        }
      } else {
        show("error", result.detail || result.message || JSON.stringify(result));
      }
    }

    async function loadValues() {
      values = {};
      if (!provider() || !orgId) return;
      const response = await fetch(
        `/beta/v1/org/${orgId}/segments/filters?provider=${encodeURIComponent(provider())}`,
        { credentials: "same-origin" });
      if (response.ok) values = await response.json();
    }

    addButton.addEventListener("click", () => addRow());
    vqlBox.addEventListener("input", debounce(fromVql, 400));
    if (providerSelect) {
      providerSelect.addEventListener("change", async () => {
        await loadValues();
        rowsBox.innerHTML = "";
        fromVql();
      });
    }
    loadValues().then(() => { if (vqlBox.value.trim()) fromVql(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-filter-editor]").forEach(init);
  });
})();
