// Draws every <canvas data-chart="<json_script id>"> with Chart.js (see includes/chart.html).
// The JSON is {labels, datasets: [{label, data}], currency?, unit?}: with a currency the axis and
// tooltips read as money ("$1,234.50"), with a unit they add it ("$0.0012 per 1,000 requests").
// Colours are assigned here so pages only describe data. A line of one period is drawn as a bar:
// one point is not a trend.
(function () {
  const palette = ["#2657d9", "#c2410c", "#1e7b34", "#b42318", "#7a3fb0", "#00707a",
                   "#8a6100", "#6d4c41", "#4b5d6b", "#b0185a", "#4d7c0f", "#3949ab"];
  const OTHERS = "#98a2b3";

  function moneyFormat(currency, small) {
    const digits = small ? { minimumFractionDigits: 2, maximumFractionDigits: 6 }
      : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
    try {
      const format = new Intl.NumberFormat(undefined, { style: "currency", currency, ...digits });
      return (value) => format.format(value);
    } catch (error) {  // not an ISO code, e.g. "USD+EUR" when several are summed
      const format = new Intl.NumberFormat(undefined, digits);
      return (value) => `${format.format(value)} ${currency}`;
    }
  }

  function formatter(data) {
    if (!data.currency) return (value) => Number(value).toLocaleString();
    const money = moneyFormat(data.currency, Boolean(data.unit));
    return data.unit ? (value) => `${money(value)} per ${data.unit}` : money;
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const stacked = canvas.dataset.stacked === "true";
    let type = canvas.dataset.type || "bar";
    if (type === "line" && data.labels.length < 2) type = "bar";
    data.datasets.forEach((dataset, index) => {
      const colour = dataset.label === "(others)" ? OTHERS
        : dataset.color || palette[index % palette.length];
      dataset.backgroundColor = dataset.backgroundColor || colour;
      dataset.borderColor = dataset.borderColor || colour;
    });
    const format = formatter(data);
    const axis = data.currency ? moneyFormat(data.currency, Boolean(data.unit)) : format;
    new Chart(canvas, {
      type,
      data: { labels: data.labels, datasets: data.datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked },
          y: { stacked, beginAtZero: true, ticks: { callback: (value) => axis(value) } },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: (item) => `${item.dataset.label}: ${format(item.parsed.y)}`,
            },
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
    canvas.dataset.rendered = "true";
    canvas.dataset.drawnAs = type;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll());
  document.addEventListener("htmx:afterSwap", (event) => drawAll(event.target));
  window.costlineCharts = { drawAll };
})();
