// Saved views: save, rename, update and delete through /api/{account}/filter-segments/ (session +
// CSRF). Works in any `.saved-views` container (a list page's menu, the saved-views page's table)
// whose items are `.saved-view[data-id][data-name]`. Applying a view is a plain link
// (?saved_view=<id>) that the list page resolves.
(function () {
  if (window.costlineSavedViews) return;
  window.costlineSavedViews = true;

  const csrfToken = () => window.costline.csrfToken();  // static/js/app.js

  function showError(container, message) {
    const box = container.querySelector(".saved-view-error");
    if (!box) return window.alert(message);
    box.textContent = message;
    box.hidden = false;
  }

  async function call(container, method, path, body) {
    const response = await fetch(`/api/${container.dataset.account}/filter-segments/${path}`, {
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
    } catch (error) { /* not JSON: keep the status line */ }
    showError(container, message);
    return false;
  }

  function predicates(container) {
    const source = document.getElementById(container.dataset.predicatesId);
    return source ? JSON.parse(source.textContent) : [];
  }

  async function run(button) {
    const container = button.closest(".saved-views");
    const item = button.closest(".saved-view");
    const action = button.dataset.action;
    let done = false;
    if (action === "save") {
      const name = container.querySelector(".saved-view-name").value.trim();
      done = await call(container, "POST", "", {
        module: container.dataset.module, name, filters: predicates(container),
      });
    } else if (action === "rename") {
      const name = window.prompt("New name", item.dataset.name);
      if (name === null) return;
      done = await call(container, "PATCH", item.dataset.id, { name: name.trim() });
    } else if (action === "update") {
      done = await call(container, "PATCH", item.dataset.id, { filters: predicates(container) });
    } else if (action === "delete") {
      if (!window.confirm(`Delete the saved view “${item.dataset.name}”?`)) return;
      done = await call(container, "DELETE", item.dataset.id);
    }
    if (done) window.location.reload();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".saved-views [data-action]");
    if (!button) return;
    event.preventDefault();
    run(button);
  });

  // Enter in the name box saves the view.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !event.target.matches(".saved-views .saved-view-name")) return;
    event.preventDefault();
    run(event.target.closest(".saved-views").querySelector("[data-action=save]"));
  });
})();
