// Business metrics and unit costs through Vantage's official TypeScript client, unchanged.
// Env: COSTLINE_URL; COSTLINE_REPORTS_TOKEN (read/write) and COSTLINE_REPORTS_READ_TOKEN (read
// only) of an organization into which run.sh imported an AWS FOCUS export for August and
// September 2026; COSTLINE_TOKEN, another organization's token (its objects must 404).
import assert from "node:assert/strict";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, finish } from "./harness.mjs";

const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_REPORTS_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_REPORTS_READ_TOKEN, false, baseUrl);
const other = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);

const METRIC_KEYS = [
  "billable_metric_token", "cost_report_tokens_with_metadata", "created_by_token", "currency",
  "import_type", "integration_token", "label_dimension", "price_per_unit", "title", "token",
].sort();

const days = (start, count) =>
  Array.from({ length: count }, (_, n) => {
    const day = new Date(`${start}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + n);
    return day.toISOString().slice(0, 10);
  });

let report;
let metric;

await check("business metrics: create with values and a cost report, get", async () => {
  report = await client.costReports.create({
    title: "AWS for unit costs",
    filter: "costs.provider = 'aws'",
    start_date: "2026-08-01",
    end_date: "2026-09-30",
    date_bin: "month",
  });
  metric = await client.businessMetrics.create({
    title: "Requests",
    cost_report_tokens_with_metadata: [
      { cost_report_token: report.token, unit_scale: "per_thousand", label_filter: ["web"] },
    ],
    values: [
      ...days("2026-08-01", 61).map((date) => ({ date: `${date}T00:00:00Z`, amount: 2000, label: "web" })),
      ...days("2026-08-01", 61).map((date) => ({ date, amount: 10, label: "batch" })),
    ],
    forecasted_values: [{ date: "2026-10-01T00:00:00Z", amount: 2100, label: "web" }],
  });
  assert.deepEqual(Object.keys(metric).sort(), METRIC_KEYS);
  assert.match(metric.token, /^bsnss_mtrc_[0-9a-z]{16}$/);
  assert.equal(metric.import_type, null);
  assert.deepEqual(metric.cost_report_tokens_with_metadata, [
    {
      cost_report_token: report.token,
      unit_scale: "per_thousand",
      calculation_type: "unit_cost",
      label: null,
      label_filter: ["web"],
    },
  ]);
  assert.deepEqual(await client.businessMetrics.get(metric.token), metric);
});

await check("business metrics: list with paging and search, update", async () => {
  const extra = await client.businessMetrics.create({ title: "Signups" });
  const first = await client.businessMetrics.list({ limit: 1 });
  assert.equal(first.business_metrics.length, 1);
  assert.ok(first.links.next.startsWith(baseUrl));
  const found = await client.businessMetrics.list({ q: "signup" });
  assert.deepEqual(found.business_metrics.map((m) => m.token), [extra.token]);
  const updated = await client.businessMetrics.update(extra.token, {
    title: "Sign-ups",
    values: [{ date: "2026-08-01T00:00:00Z", amount: 3 }],
  });
  assert.equal(updated.title, "Sign-ups");
  assert.equal(await client.businessMetrics.delete(extra.token), undefined);
  await expectApiError(client.businessMetrics.get(extra.token), 404);
});

await check("values, labels and forecasted values", async () => {
  const values = await client.businessMetrics.getValues(metric.token, { limit: 1000 });
  assert.equal(values.values.length, 122);
  assert.deepEqual(values.values[0], { date: "2026-09-30T00:00:00Z", amount: "10.0", label: "batch" });
  const web = await client.businessMetrics.getValues(metric.token, {
    label_values: ["web"],
    date_bin: "month",
    start_date: "2026-09-01",
  });
  assert.deepEqual(web.values, [{ date: "2026-09-01T00:00:00Z", amount: "60000.0", label: "web" }]);
  const labels = await client.businessMetrics.getLabels(metric.token, {});
  assert.deepEqual(labels.labels, [{ value: "batch" }, { value: "web" }]);
  assert.ok(labels.links.self.startsWith(baseUrl));
  const forecast = await client.businessMetrics.getForecastedValues(metric.token, {});
  assert.deepEqual(forecast.values, [{ date: "2026-10-01T00:00:00Z", amount: "2100.0", label: "web" }]);
});

await check("values.csv upload replaces days; deleteValues removes by range and label", async () => {
  const csv = new Blob(["date,amount,label\n2026-09-30,4000,web\n2026-10-01,1,web\n"], { type: "text/csv" });
  const uploaded = await client.businessMetrics.updateValuesCSV(metric.token, { csv });
  assert.equal(uploaded.import_type, "csv");
  const after = await client.businessMetrics.getValues(metric.token, { start_date: "2026-09-30", label_values: ["web"] });
  assert.deepEqual(after.values.map((v) => [v.date, v.amount]), [
    ["2026-10-01T00:00:00Z", "1.0"],
    ["2026-09-30T00:00:00Z", "4000.0"],
  ]);
  const deleted = await client.businessMetrics.deleteValues(metric.token, {
    start_date: "2026-10-01",
    end_date: "2026-10-31",
    label: "web",
  });
  assert.deepEqual(deleted, { deleted_count: 1 });
  const bad = new Blob(["date,amount\n2026-09-01,lots\n"], { type: "text/csv" });
  await expectApiError(client.businessMetrics.updateValuesCSV(metric.token, { csv: bad }), 400, "csv");
});

await check("unit costs: the report's monthly cost per thousand web requests", async () => {
  const body = await client.unitCosts.list({ cost_report_token: report.token, order: "asc" });
  assert.deepEqual(body.unit_costs.map((row) => row.date), ["2026-08-01", "2026-09-01"]);
  const costs = await client.costs.list({ cost_report_token: report.token, date_bin: "month", groupings: [] , limit: 1000 });
  const august = costs.costs
    .filter((line) => line.accrued_at.startsWith("2026-08"))
    .reduce((total, line) => total + Number(line.amount), 0);
  const row = body.unit_costs[0];
  assert.equal(row.business_metric_token, metric.token);
  assert.equal(row.business_metric_title, "Requests");
  assert.equal(row.business_metric_amount, "62000.0");
  assert.equal(row.scale, 1000);
  assert.ok(Math.abs(Number(row.unit_cost_amount) - (august / 62000) * 1000) < 1e-6, row.unit_cost_amount);
  await expectApiError(client.unitCosts.list({ cost_report_token: report.token, date_bin: "hour" }), 400, "date_bin");
  await expectApiError(client.unitCosts.list({ cost_report_token: "rprt_0000000000000000" }), 404, "cost_report_token");
});

await check("unit costs export: Location, then CSV rows equal to /v2/unit_costs", async () => {
  const location = await client.unitCosts.createExport({ cost_report_token: report.token, date_bin: "month" });
  assert.ok(location.startsWith(`${baseUrl}/v2/data_exports/dta_xprt_`), location);
  const token = location.split("/").pop();
  let exported = await client.dataExports.get(token);
  for (let attempt = 0; exported.status === "pending" && attempt < 20; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    exported = await client.dataExports.get(token);
  }
  assert.equal(exported.status, "completed");
  assert.equal(exported.export_type, "unit_costs");
  const csvUrl = exported.manifest.files.find((url) => url.includes("/unit_costs.csv?"));
  const [header, ...rows] = (await (await fetch(csvUrl)).text()).trim().split(/\r?\n/);
  const columns = header.split(",");
  const listed = await client.unitCosts.list({ cost_report_token: report.token, date_bin: "month", order: "asc" });
  assert.equal(rows.length, listed.unit_costs.length);
  rows.forEach((row, index) => {
    const cells = row.split(",");
    assert.equal(cells[columns.indexOf("date")], listed.unit_costs[index].date);
    assert.ok(
      Math.abs(Number(cells[columns.indexOf("unit_cost_amount")]) - Number(listed.unit_costs[index].unit_cost_amount)) < 1e-9,
    );
  });
});

await check("errors name the field", async () => {
  await expectApiError(client.businessMetrics.create({ title: "" }), 400, "title");
  await expectApiError(
    client.businessMetrics.create({ title: "x", values: [{ date: "2026-13-01", amount: 1 }] }), 400, "values[0].date",
  );
  await expectApiError(
    client.businessMetrics.create({
      title: "x",
      cost_report_tokens_with_metadata: [{ cost_report_token: report.token, unit_scale: "per_dozen" }],
    }),
    400,
  );
});

await check("a read-only token reads but cannot write (403)", async () => {
  assert.equal((await readOnly.businessMetrics.get(metric.token)).token, metric.token);
  await expectApiError(readOnly.businessMetrics.create({ title: "Nope" }), 403);
  await expectApiError(readOnly.businessMetrics.deleteValues(metric.token, {}), 403);
});

await check("another organization's token gets 404s and empty lists", async () => {
  await expectApiError(other.businessMetrics.get(metric.token), 404);
  await expectApiError(other.businessMetrics.update(metric.token, { title: "Mine" }), 404);
  await expectApiError(other.businessMetrics.getValues(metric.token, {}), 404);
  await expectApiError(other.businessMetrics.getLabels(metric.token, {}), 404);
  await expectApiError(other.businessMetrics.getForecastedValues(metric.token, {}), 404);
  await expectApiError(other.businessMetrics.deleteValues(metric.token, {}), 404);
  await expectApiError(other.unitCosts.list({ cost_report_token: report.token }), 404);
  assert.deepEqual((await other.businessMetrics.list({})).business_metrics, []);
  await expectApiError(other.businessMetrics.delete(metric.token), 404);
});

await check("delete the metric and its report", async () => {
  assert.equal(await client.businessMetrics.delete(metric.token), undefined);
  await expectApiError(client.businessMetrics.get(metric.token), 404);
  await client.costReports.delete(report.token);
});

finish();
