// The virtual tag editor: each value row shows only the fields of the kind of value chosen
// (without JavaScript every field shows, and the server ignores the others).
(function () {
  function sync(row) {
    const kind = row.querySelector("select[name$='-kind']");
    if (!kind) return;
    row.querySelectorAll("[data-kinds]").forEach((field) => {
      field.hidden = !field.dataset.kinds.split(" ").includes(kind.value);
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".value-row").forEach((row) => {
      sync(row);
      row.addEventListener("change", (event) => {
        if (event.target.name && event.target.name.endsWith("-kind")) sync(row);
      });
    });
  });
})();
