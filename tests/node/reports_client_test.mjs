// Cost reports, folders, saved filters, tags, costs and data exports through Vantage's official
// TypeScript client, unchanged. Env: COSTLINE_URL; COSTLINE_REPORTS_TOKEN (read/write) and
// COSTLINE_REPORTS_READ_TOKEN (read only) of an organization into which run.sh imported an AWS
// FOCUS export for August and September 2026; COSTLINE_TOKEN, another organization's token.
import assert from "node:assert/strict";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, cents, finish } from "./harness.mjs";

const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_REPORTS_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_REPORTS_READ_TOKEN, false, baseUrl);
const other = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const REPORT_KEYS = [
  "business_metric_tokens_with_metadata", "chart_settings", "chart_type", "created_at",
  "date_bin", "date_interval", "default_forecast", "end_date", "filter", "folder_token",
  "groupings", "previous_period_end_date", "previous_period_start_date", "saved_filter_tokens",
  "settings", "start_date", "title", "token", "workspace_token",
].sort();
const PERIOD = { start_date: "2026-08-01", end_date: "2026-09-30" };


let savedFilter;
let folder;
let subFolder;
let report;

await check("saved filters: create, get, update", async () => {
  savedFilter = await client.savedFilters.create({ title: "AWS", filter: "costs.provider = 'aws'" });
  assert.match(savedFilter.token, /^svd_fltr_[0-9a-f]{16}$/);
  assert.match(savedFilter.created_at, ISO_Z);
  assert.deepEqual(savedFilter.cost_report_tokens, []);
  const fetched = await client.savedFilters.get(savedFilter.token);
  assert.equal(fetched.filter, "costs.provider = 'aws'");
  const updated = await client.savedFilters.update(savedFilter.token, { title: "Only AWS" });
  assert.equal(updated.title, "Only AWS");
  assert.equal(updated.filter, savedFilter.filter);
});

await check("folders: create nested, get, update", async () => {
  folder = await client.folders.create({ title: "Platform", saved_filter_tokens: [savedFilter.token] });
  assert.match(folder.token, /^fldr_[0-9a-f]{16}$/);
  assert.equal(folder.type, "CostFolder");
  assert.deepEqual(folder.saved_filter_tokens, [savedFilter.token]);
  subFolder = await client.folders.create({ title: "Storage", parent_folder_token: folder.token });
  assert.equal(subFolder.parent_folder_token, folder.token);
  assert.equal(subFolder.workspace_token, folder.workspace_token);
  const renamed = await client.folders.update(subFolder.token, { title: "Object storage" });
  assert.equal(renamed.title, "Object storage");
  assert.equal((await client.folders.get(folder.token)).title, "Platform");
});

await check("cost reports: create with every field, get", async () => {
  report = await client.costReports.create({
    title: "AWS by service",
    filter: "costs.provider = 'aws'",
    groupings: "provider,service",
    folder_token: folder.token,
    saved_filter_tokens: [savedFilter.token],
    settings: { include_credits: false, include_tax: true, amortize: true, aggregate_by: "cost" },
    start_date: "2026-09-01",
    end_date: "2026-09-30",
    previous_period_start_date: "2026-08-01",
    previous_period_end_date: "2026-08-31",
    date_bin: "month",
    chart_type: "bar",
  });
  assert.deepEqual(Object.keys(report).sort(), REPORT_KEYS);
  assert.match(report.token, /^rprt_[0-9a-f]{16}$/);
  assert.equal(report.groupings, "provider,service");
  assert.equal(report.date_interval, "custom");
  assert.equal(report.folder_token, folder.token);
  assert.deepEqual(report.saved_filter_tokens, [savedFilter.token]);
  assert.equal(report.settings.include_discounts, true);
  const fetched = await client.costReports.get(report.token);
  assert.deepEqual(fetched, report);
});

await check("cost reports: update", async () => {
  const updated = await client.costReports.update(report.token, {
    title: "AWS by service, monthly",
    settings: { include_credits: true },
  });
  assert.equal(updated.title, "AWS by service, monthly");
  assert.equal(updated.settings.include_credits, true);
  assert.equal(updated.filter, report.filter);
  await client.costReports.update(report.token, { settings: { include_credits: false } });
});

await check("lists page with absolute links", async () => {
  const extra = await client.costReports.create({ title: "This month", date_interval: "this_month" });
  const first = await client.costReports.list({ page: 1, limit: 1 });
  assert.equal(first.cost_reports.length, 1);
  assert.equal(first.links.prev, null);
  assert.ok(first.links.next.startsWith(baseUrl));
  const second = await client.costReports.list({ page: 2, limit: 1 });
  assert.notEqual(second.cost_reports[0].token, first.cost_reports[0].token);
  assert.equal(second.links.next, null);
  const inFolder = await client.costReports.list({ folder_token: folder.token });
  assert.deepEqual(inFolder.cost_reports.map((r) => r.token), [report.token]);
  const folders = await client.folders.list({ limit: 1 });
  assert.equal(folders.folders.length, 1);
  assert.ok(folders.links.last.startsWith(baseUrl));
  const filters = await client.savedFilters.list({});
  assert.deepEqual(filters.saved_filters[0].cost_report_tokens, [report.token]);
  await client.costReports.delete(extra.token);
});

await check("costs of a report equal the pages' sum and compare with the previous period", async () => {
  const body = await client.costs.list({ cost_report_token: report.token, limit: 5000 });
  assert.equal(body.total_cost.currency, "USD");
  assert.ok(body.costs.length > 0);
  for (const cost of body.costs) {
    assert.equal(cost.accrued_at, "2026-09-01");
    assert.equal(cost.provider, "aws");
    assert.equal(typeof cost.service, "string");
  }
  const sum = body.costs.reduce((total, cost) => total + cents(cost.amount), 0);
  assert.ok(Math.abs(sum - cents(body.total_cost.amount)) <= body.costs.length);
  assert.equal(body.previous_period.start_date, "2026-08-01");
  const august = await client.costs.list({
    filter: "costs.provider = 'aws'",
    groupings: ["provider"],
    start_date: "2026-08-01",
    end_date: "2026-08-31",
  });
  assert.equal(body.previous_period.total_cost.amount, august.total_cost.amount);
});

await check("ad-hoc costs: groupings, bins, settings, order and paging", async () => {
  const query = { filter: "costs.provider = 'aws'", groupings: ["service"], date_bin: "week", ...PERIOD };
  const all = await client.costs.list({ ...query, limit: 5000, order: "asc" });
  const dates = all.costs.map((cost) => cost.accrued_at);
  assert.deepEqual(dates, [...dates].sort());
  const page = await client.costs.list({ ...query, limit: 3, page: 2 });
  assert.equal(page.costs.length, 3);
  assert.ok(page.links.prev.startsWith(baseUrl) && page.links.next.startsWith(baseUrl));
  assert.equal(page.total_cost.amount, all.total_cost.amount);
  const credited = await client.costs.list({ ...query, "settings[include_credits]": true, limit: 1 });
  assert.ok(Number(credited.total_cost.amount) < Number(all.total_cost.amount), "credits lower it");
  const monthly = await client.costs.list({ ...query, date_bin: "month", groupings: ["provider"] });
  assert.deepEqual(monthly.costs.map((cost) => cost.accrued_at).sort(), ["2026-08-01", "2026-09-01"]);
  assert.equal(
    monthly.costs.reduce((total, cost) => total + cents(cost.amount), 0),
    cents(monthly.total_cost.amount),
  );
});

await check("a segment's report_token reads its costs through /v2/costs", async () => {
  const segment = await client.segments.create({ title: "All AWS", filter: "costs.provider = 'aws'" });
  const fetched = await client.segments.get(segment.token);
  assert.match(fetched.report_token, /^rprt_[0-9a-f]{16}$/);
  const body = await client.costs.list({ cost_report_token: fetched.report_token, date_bin: "month", ...PERIOD });
  assert.deepEqual([...new Set(body.costs.map((cost) => cost.segment))], ["All AWS"]);
  const adHoc = await client.costs.list({ filter: "costs.provider = 'aws'", groupings: ["provider"], ...PERIOD });
  assert.ok(Math.abs(cents(body.total_cost.amount) - cents(adHoc.total_cost.amount)) <= 1);
  await client.segments.delete(segment.token);
});

await check("costs errors name the parameter", async () => {
  await expectApiError(client.costs.list({}), 400, "cost_report_token");
  await expectApiError(client.costs.list({ filter: "costs.provider = " }), 400);
  await expectApiError(client.costs.list({ filter: "costs.provider = 'aws'", date_bin: "hour" }), 400, "date_bin");
  await expectApiError(client.costs.list({ filter: "costs.provider = 'aws'", limit: 5001 }), 400, "limit");
  await expectApiError(client.costs.list({ cost_report_token: "rprt_0000000000000000" }), 404);
});

await check("tags and tag values come back with their providers", async () => {
  const tags = await client.tags.list({ limit: 1000 });
  assert.ok(Array.isArray(tags.tags));
  for (const tag of tags.tags) {
    assert.deepEqual(Object.keys(tag).sort(), ["hidden", "preferred", "providers", "tag_key"]);
  }
  if (tags.tags.length > 0) {
    const values = await client.tags.getValues(tags.tags[0].tag_key, {});
    assert.ok(values.tag_values.length > 0);
    assert.deepEqual(values.tag_values[0].providers, ["aws"]);
  }
  await expectApiError(client.tags.getValues("no-such-tag-key", {}), 404);
});

await check("a data export: Location, then a CSV whose sum is the costs' total", async () => {
  const location = await client.costs.createExport({
    cost_report_token: report.token,
    groupings: ["service"],
    date_bin: "month",
  });
  assert.ok(location.startsWith(`${baseUrl}/v2/data_exports/dta_xprt_`), location);
  const token = location.split("/").pop();
  let exported = await client.dataExports.get(token);
  for (let attempt = 0; exported.status === "pending" && attempt < 20; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    exported = await client.dataExports.get(token);
  }
  assert.equal(exported.status, "completed");
  assert.equal(exported.attributes.report_token, report.token);
  const csvUrl = exported.manifest.files.find((url) => url.includes("/costs.csv?"));
  const text = await (await fetch(csvUrl)).text();
  const [header, ...rows] = text.trim().split(/\r?\n/);
  assert.deepEqual(header.split(","), ["accrued_at", "service", "amount", "currency"]);
  const costs = await client.costs.list({
    cost_report_token: report.token,
    groupings: ["service"],
    date_bin: "month",
    limit: 5000,
  });
  assert.equal(rows.length, costs.costs.length);
  const amountAt = header.split(",").indexOf("amount");
  const sum = rows.reduce((total, row) => total + Number(row.split(",")[amountAt]), 0);
  assert.ok(Math.abs(sum - Number(costs.total_cost.amount)) < 0.005);
});

await check("errors name the field", async () => {
  await expectApiError(client.costReports.create({ filter: "costs.provider = 'aws'" }), 400, "title");
  await expectApiError(client.costReports.create({ title: "x", groupings: "colour" }), 400, "groupings");
  await expectApiError(client.costReports.create({ title: "x", filter: "costs.provider = " }), 400);
  await expectApiError(
    client.costReports.create({ title: "x", folder_token: "fldr_0000000000000000" }), 404, "folder_token",
  );
  await expectApiError(
    client.folders.update(folder.token, { parent_folder_token: subFolder.token }), 422, "parent_folder_token",
  );
  await expectApiError(client.savedFilters.create({ title: "x", filter: "costs.nope = 'a'" }), 422);
});

await check("a read-only token reads but cannot write (403)", async () => {
  assert.equal((await readOnly.costReports.get(report.token)).token, report.token);
  await expectApiError(readOnly.costReports.create({ title: "Nope" }), 403);
  await expectApiError(readOnly.folders.update(folder.token, { title: "Nope" }), 403);
  await expectApiError(readOnly.savedFilters.delete(savedFilter.token), 403);
});

await check("another organization's token gets 404s and empty lists", async () => {
  await expectApiError(other.costReports.get(report.token), 404);
  await expectApiError(other.costReports.update(report.token, { title: "Mine" }), 404);
  await expectApiError(other.folders.get(folder.token), 404);
  await expectApiError(other.savedFilters.delete(savedFilter.token), 404);
  await expectApiError(other.costs.list({ cost_report_token: report.token }), 404);
  assert.deepEqual((await other.costReports.list({})).cost_reports, []);
  const theirs = await other.costs.list({ filter: "costs.provider = 'aws'", ...PERIOD });
  assert.equal(theirs.total_cost.amount, "0.0");
});

await check("delete report, folders and saved filter", async () => {
  assert.equal(await client.costReports.delete(report.token), undefined);
  await expectApiError(client.costReports.get(report.token), 404);
  assert.equal(await client.folders.delete(subFolder.token), undefined);
  assert.equal(await client.folders.delete(folder.token), undefined);
  assert.equal(await client.savedFilters.delete(savedFilter.token), undefined);
  await expectApiError(client.savedFilters.get(savedFilter.token), 404);
});

finish();
