// Small progressive enhancements shared by the pages; charts are drawn by static/js/charts.js.
// No inline handlers in templates (the Content-Security-Policy forbids them): pages mark elements
// with data attributes and this file wires them.

// The CSRF token for the scripts' fetch() calls: Django's cookie, else a form's hidden input.
// Page scripts call costline.csrfToken() when they send, from DOMContentLoaded on (this file is
// deferred, so it has run by then).
window.costline = window.costline || {};
window.costline.csrfToken = function () {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
};

document.addEventListener("DOMContentLoaded", () => {
  // <form data-confirm="Question?">: ask before submitting.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("submit", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });

  // <select data-autosubmit>: submit its form when the choice changes.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form && select.form.submit());
  });

  // <button data-copy="element-id">: copy that element's text to the clipboard.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand("copy");
      }
      button.textContent = "Copied";
      button.dataset.copied = "true";
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  });

  // <details data-collapse-narrow open>: folded on a phone (the filter bar), open elsewhere.
  if (window.matchMedia("(max-width: 860px)").matches) {
    document.querySelectorAll("details[data-collapse-narrow]").forEach((details) => {
      details.open = false;
    });
  }

  // The navigation collapses into a menu on narrow screens (see .nav-toggle in app.css).
  const toggle = document.querySelector(".nav-toggle");
  const topbar = document.querySelector(".topbar");
  if (toggle && topbar) {
    toggle.addEventListener("click", () => {
      const open = topbar.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
});
