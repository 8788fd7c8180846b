// The "Saved views" menu: save, rename, update and delete through /api/{account}/filter-segments/
// (session + CSRF). Applying a view is a plain link (?saved_view=<id>) handled by the page.
(function () {
  if (window.costlineSavedViews) return;
  window.costlineSavedViews = true;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(menu, method, path, body) {
    const response = await fetch(`/api/${menu.dataset.account}/filter-segments/${path}`, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.ok) return true;
    let message = `${response.status} ${response.statusText}`;
    try {
      const data = await response.json();
      message = Object.entries(data).map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join("; ");
    } catch (error) { /* keep the status line */ }
    const box = menu.querySelector(".saved-view-error");
    box.textContent = message;
    box.hidden = false;
    return false;
  }

  function predicates(menu) {
    const source = document.getElementById(menu.dataset.predicatesId);
    return source ? JSON.parse(source.textContent) : [];
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest(".saved-views [data-action]");
    if (!button) return;
    event.preventDefault();
    const menu = button.closest(".saved-views");
    const item = button.closest(".saved-view");
    const action = button.dataset.action;
    let done = false;
    if (action === "save") {
      const name = menu.querySelector(".saved-view-name").value.trim();
      done = await call(menu, "POST", "", { module: menu.dataset.module, name, filters: predicates(menu) });
    } else if (action === "rename") {
      const current = item.querySelector(".apply-view").textContent.trim();
      const name = window.prompt("New name", current);
      if (name === null) return;
      done = await call(menu, "PATCH", item.dataset.id, { name });
    } else if (action === "update") {
      done = await call(menu, "PATCH", item.dataset.id, { filters: predicates(menu) });
    } else if (action === "delete") {
      if (!window.confirm("Delete this saved view?")) return;
      done = await call(menu, "DELETE", item.dataset.id);
    }
    if (done) window.location.reload();
  });
})();
