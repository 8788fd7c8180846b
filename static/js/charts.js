// Draws every <canvas data-chart="<json_script id>"> with Chart.js (see includes/chart.html).
// The JSON is {labels: [...], datasets: [{label, data, type?}]}; colours are assigned here so
// pages only describe data.
(function () {
  const palette = ["#2657d9", "#e8710a", "#1e8e3e", "#c0392b", "#8e44ad", "#00838f",
                   "#f1c40f", "#6d4c41", "#546e7a", "#d81b60", "#7cb342", "#3949ab"];

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const stacked = canvas.dataset.stacked === "true";
    data.datasets.forEach((dataset, index) => {
      const colour = dataset.color || palette[index % palette.length];
      dataset.backgroundColor = dataset.backgroundColor || colour;
      dataset.borderColor = dataset.borderColor || colour;
    });
    new Chart(canvas, {
      type: canvas.dataset.type || "bar",
      data: data,
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { x: { stacked: stacked }, y: { stacked: stacked, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll());
  document.addEventListener("htmx:afterSwap", (event) => drawAll(event.target));
  window.costlineCharts = { drawAll };
})();
