// Budgets, budget alerts, forecasted costs and report forecasts through Vantage's official
// TypeScript client, unchanged. Env: COSTLINE_URL; COSTLINE_REPORTS_TOKEN (read/write) and
// COSTLINE_REPORTS_READ_TOKEN (read only) of an organization into which run.sh imported an AWS
// FOCUS export for August and September 2026; COSTLINE_TOKEN, another organization's token.
// The client has no budgets.get (Vantage's getBudget): it is called through the client's own
// request(), as the client's methods do.
import assert from "node:assert/strict";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, cents, finish } from "./harness.mjs";

const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_REPORTS_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_REPORTS_READ_TOKEN, false, baseUrl);
const other = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const BUDGET_KEYS = [
  "budget_alert_tokens", "child_budget_tokens", "cost_report_token", "created_at",
  "created_by_token", "name", "performance", "periods", "token", "user_token", "workspace_token",
].sort();
const ALERT_KEYS = [
  "budget_tokens", "created_at", "duration_in_days", "integration_provider", "period_to_track",
  "recipient_channels", "threshold", "token", "user_token", "user_tokens", "workspace_token",
].sort();
const REPORT_FORECAST_KEYS = [
  "business_metric_token", "cost_report_token", "created_at", "created_by_token", "is_default",
  "scenario_model_tokens", "title", "token", "updated_at",
].sort();

const getBudget = (api, token, query = {}) =>
  api.request(`/v2/budgets/${encodeURIComponent(token)}`, "GET", query);

let report;
let ec2Report;
let budget;
let child;
let parent;
let alert;
let reportForecast;

await check("budgets: create over a cost report, periods and performance", async () => {
  report = await client.costReports.create({ title: "Budgeted AWS", filter: "costs.provider = 'aws'" });
  budget = await client.budgets.create({
    name: "AWS",
    cost_report_token: report.token,
    periods: [
      { start_at: "2026-08-01", end_at: "2026-08-31", amount: 1000 },
      { start_at: "2026-09-01", amount: 1200.5 },
    ],
  });
  assert.deepEqual(Object.keys(budget).sort(), BUDGET_KEYS);
  assert.match(budget.token, /^bdgt_[0-9a-f]{16}$/);
  assert.match(budget.created_at, ISO_Z);
  assert.equal(budget.cost_report_token, report.token);
  assert.equal(budget.workspace_token, report.workspace_token);
  assert.deepEqual(budget.periods, [
    { start_at: "2026-08-01", end_at: "2026-08-31", amount: "1000.0" },
    { start_at: "2026-09-01", end_at: "2026-09-30", amount: "1200.5" },
  ]);
  // Each period's actual is the report's cost over it, as /v2/costs sums it.
  for (const [index, month] of [["2026-08-01", "2026-08-31"], ["2026-09-01", "2026-09-30"]].entries()) {
    const costs = await client.costs.list({
      cost_report_token: report.token, start_date: month[0], end_date: month[1], groupings: ["provider"],
    });
    assert.equal(budget.performance[index].date, month[0]);
    assert.equal(cents(budget.performance[index].actual), cents(costs.total_cost.amount));
    assert.ok(cents(costs.total_cost.amount) > 0);
  }
  assert.equal(budget.performance[1].amount, "1200.5");
});

await check("budgets: get (with and without performance), update, list and page", async () => {
  const fetched = await getBudget(client, budget.token);
  assert.deepEqual(fetched, budget);
  const bare = await getBudget(client, budget.token, { include_performance: false });
  assert.equal(bare.performance, undefined);
  const updated = await client.budgets.update(budget.token, {
    name: "AWS platform",
    periods: [{ start_at: "2026-09-01", end_at: "2026-09-30", amount: 900 }],
  });
  assert.equal(updated.name, "AWS platform");
  assert.deepEqual(updated.periods, [{ start_at: "2026-09-01", end_at: "2026-09-30", amount: "900.0" }]);
  assert.equal(updated.cost_report_token, report.token);
  const extra = await client.budgets.create({ name: "Spare", cost_report_token: report.token });
  const first = await client.budgets.list({ page: 1, limit: 1 });
  assert.equal(first.budgets.length, 1);
  assert.ok(first.links.next.startsWith(baseUrl));
  const found = await client.budgets.list({ q: "platform" });
  assert.deepEqual(found.budgets.map((b) => b.token), [budget.token]);
  await client.budgets.delete(extra.token);
});

await check("budgets: a hierarchical budget adds up its children", async () => {
  ec2Report = await client.costReports.create({
    title: "EC2", filter: "costs.provider = 'aws' AND costs.service = 'AmazonEC2'",
  });
  child = await client.budgets.create({
    name: "EC2", cost_report_token: ec2Report.token,
    periods: [{ start_at: "2026-09-01", end_at: "2026-09-30", amount: 100 }],
  });
  parent = await client.budgets.create({ name: "Everything", child_budget_tokens: [budget.token, child.token] });
  assert.deepEqual(parent.child_budget_tokens, [budget.token, child.token]);
  assert.equal(parent.cost_report_token, null);
  assert.deepEqual(parent.periods, [{ start_at: "2026-09-01", end_at: "2026-09-30", amount: "1000.0" }]);
  const own = await getBudget(client, budget.token);
  const childBody = await getBudget(client, child.token);
  const sum = Number(own.performance[0].actual) + Number(childBody.performance[0].actual);
  assert.ok(Math.abs(Number(parent.performance[0].actual) - sum) < 0.005);
});

await check("budget alerts: create, get, update, list by budget", async () => {
  alert = await client.budgetAlerts.create({
    budget_tokens: [budget.token], threshold: 80, duration_in_days: "",
  });
  assert.deepEqual(Object.keys(alert).sort(), ALERT_KEYS);
  assert.match(alert.token, /^bdgt_alrt_[0-9a-f]{16}$/);
  assert.equal(alert.threshold, 80);
  assert.equal(alert.duration_in_days, null);
  assert.equal(alert.period_to_track, "start_of_the_month");
  assert.deepEqual(alert.budget_tokens, [budget.token]);
  assert.deepEqual(await client.budgetAlerts.get(alert.token), alert);
  const updated = await client.budgetAlerts.update(alert.token, {
    threshold: 95, duration_in_days: "10", period_to_track: "end_of_the_month",
  });
  assert.equal(updated.threshold, 95);
  assert.equal(updated.duration_in_days, 10);
  assert.equal(updated.period_to_track, "end_of_the_month");
  const listed = await client.budgetAlerts.list({ budget_token: budget.token });
  assert.deepEqual(listed.budget_alerts.map((a) => a.token), [alert.token]);
  const withAlert = await getBudget(client, budget.token);
  assert.deepEqual(withAlert.budget_alert_tokens, [alert.token]);
});

await check("forecasted costs: daily from the day after the last cost, with an interval", async () => {
  const body = await client.costReports.getForecastedCosts(report.token, { limit: 1000 });
  assert.equal(body.currency, "USD");
  const days = await client.costs.list({
    cost_report_token: report.token, start_date: "2026-08-01", end_date: "2026-09-30",
    date_bin: "day", groupings: ["provider"], order: "desc", limit: 1,
  });
  const lastCost = new Date(`${days.costs[0].accrued_at}T00:00:00Z`);
  const first = new Date(`${body.forecasted_costs[0].date}T00:00:00Z`);
  assert.equal(first - lastCost, 86400000);
  let previous = null;
  for (const cost of body.forecasted_costs) {
    assert.equal(cost.provider, "all");
    assert.equal(cost.service, "all");
    assert.match(cost.date, /^\d{4}-\d\d-\d\d$/);
    assert.ok(Number(cost.lower_bound) <= Number(cost.amount));
    assert.ok(Number(cost.amount) <= Number(cost.upper_bound));
    const day = new Date(`${cost.date}T00:00:00Z`);
    if (previous) assert.equal(day - previous, 86400000);
    previous = day;
  }
  const window = await client.costReports.getForecastedCosts(report.token, {
    start_date: body.forecasted_costs[2].date, end_date: body.forecasted_costs[3].date,
  });
  assert.deepEqual(window.forecasted_costs.map((cost) => cost.date),
    [body.forecasted_costs[2].date, body.forecasted_costs[3].date]);
  const paged = await client.costReports.getForecastedCosts(report.token, { limit: 5, provider: "aws" });
  assert.equal(paged.forecasted_costs.length, 5);
  assert.equal(paged.forecasted_costs[0].provider, "aws");
  assert.ok(paged.links.next.startsWith(baseUrl));
});

await check("report forecasts: create, get, update, list, one default per report", async () => {
  reportForecast = await client.reportForecasts.create({
    cost_report_token: report.token, title: "Growth", scenario_model_tokens: ["scnr_mdl_a"],
    set_as_default: true,
  });
  assert.deepEqual(Object.keys(reportForecast).sort(), REPORT_FORECAST_KEYS);
  assert.match(reportForecast.token, /^rprt_fcst_[0-9a-f]{16}$/);
  assert.equal(reportForecast.is_default, true);
  assert.deepEqual(await client.reportForecasts.get(reportForecast.token), reportForecast);
  const second = await client.reportForecasts.create({
    cost_report_token: report.token, title: "Flat", set_as_default: true,
  });
  const listed = await client.reportForecasts.list({ cost_report_token: report.token });
  assert.deepEqual(listed.report_forecasts.map((f) => [f.token, f.is_default]),
    [[reportForecast.token, false], [second.token, true]]);
  const updated = await client.reportForecasts.update(reportForecast.token, { title: "Steady growth" });
  assert.equal(updated.title, "Steady growth");
  await client.reportForecasts.delete(second.token);
});

await check("errors name the field", async () => {
  await expectApiError(client.budgets.create({ periods: [] }), 400, "name");
  await expectApiError(client.budgets.create({
    name: "x", periods: [{ start_at: "2026-08-10", end_at: "2026-08-01", amount: 1 }],
  }), 400, "periods");
  await expectApiError(client.budgets.create({ name: "x", cost_report_token: "rprt_0000000000000000" }), 404, "cost_report_token");
  await expectApiError(client.budgets.update(child.token, { child_budget_tokens: [parent.token] }), 422, "child_budget_tokens");
  await expectApiError(client.budgetAlerts.create({ budget_tokens: [budget.token], threshold: 0, duration_in_days: "" }), 400, "threshold");
  await expectApiError(client.budgetAlerts.create({ budget_tokens: [budget.token], threshold: 50, duration_in_days: "", recipient_channels: ["#nowhere"] }), 422, "recipient_channels");
  await expectApiError(client.costReports.getForecastedCosts(report.token, { start_date: "soon" }), 400, "start_date");
  await expectApiError(client.costReports.getForecastedCosts("rprt_0000000000000000"), 404);
  await expectApiError(client.reportForecasts.list({}), 400, "cost_report_token");
});

await check("a read-only token reads but cannot write (403)", async () => {
  assert.equal((await getBudget(readOnly, budget.token)).token, budget.token);
  assert.equal((await readOnly.budgetAlerts.get(alert.token)).token, alert.token);
  await expectApiError(readOnly.budgets.create({ name: "Nope" }), 403);
  await expectApiError(readOnly.budgetAlerts.update(alert.token, { threshold: 10 }), 403);
  await expectApiError(readOnly.reportForecasts.delete(reportForecast.token), 403);
});

await check("another organization's token gets 404s and empty lists", async () => {
  await expectApiError(getBudget(other, budget.token), 404);
  await expectApiError(other.budgets.update(budget.token, { name: "Mine" }), 404);
  await expectApiError(other.budgets.delete(budget.token), 404);
  await expectApiError(other.budgetAlerts.get(alert.token), 404);
  await expectApiError(other.costReports.getForecastedCosts(report.token), 404);
  await expectApiError(other.reportForecasts.get(reportForecast.token), 404);
  assert.deepEqual((await other.budgets.list({})).budgets, []);
  assert.deepEqual((await other.budgetAlerts.list({})).budget_alerts, []);
});

await check("delete alerts, budgets and report forecasts", async () => {
  assert.equal(await client.budgetAlerts.delete(alert.token), undefined);
  await expectApiError(client.budgetAlerts.get(alert.token), 404);
  for (const token of [parent.token, child.token, budget.token]) {
    assert.equal(await client.budgets.delete(token), undefined);
    await expectApiError(getBudget(client, token), 404);
  }
  assert.equal(await client.reportForecasts.delete(reportForecast.token), undefined);
  await expectApiError(client.reportForecasts.get(reportForecast.token), 404);
  await client.costReports.delete(ec2Report.token);
  await client.costReports.delete(report.token);
});

finish();
