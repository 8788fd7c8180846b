// Virtual tags through Vantage's official TypeScript client, unchanged. Env: COSTLINE_URL;
// COSTLINE_REPORTS_TOKEN (read/write) and COSTLINE_REPORTS_READ_TOKEN (read only) of an
// organization with AWS costs for August and September 2026; COSTLINE_TOKEN, another
// organization's token (its view of these tags must be 404).
import assert from "node:assert/strict";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, cents, finish } from "./harness.mjs";

const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_REPORTS_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_REPORTS_READ_TOKEN, false, baseUrl);
const other = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);

const CONFIG_KEYS = [
  "backfill_until", "collapsed_tag_keys", "created_by_token", "key", "overridable", "token",
  "values",
].sort();
const PERIOD = { start_date: "2026-08-01", end_date: "2026-09-30" };


async function costsByTag(key) {
  const body = await client.costs.list({
    filter: "costs.provider = 'aws'", groupings: `tag:${key}`, date_bin: "month", limit: 1000,
    ...PERIOD,
  });
  const byValue = {};
  for (const cost of body.costs) {
    byValue[cost.tag ?? ""] = (byValue[cost.tag ?? ""] ?? 0) + cents(cost.amount);
  }
  return { byValue, total: cents(body.total_cost.amount) };
}

let config;

await check("create with named and percentage values, in Vantage's shape", async () => {
  config = await client.virtualTagConfigs.create({
    key: "Cost Owner",
    overridable: true,
    backfill_until: "2026-08-01",
    collapsed_tag_keys: [{ key: "owner", providers: ["aws"] }],
    values: [
      { filter: "costs.provider = 'aws' AND costs.service = 'AmazonEC2'", name: "Compute team" },
      {
        filter: "costs.provider = 'aws'",
        percentages: [{ value: "Data team", pct: 60 }, { value: "Web team", pct: 40 }],
        date_ranges: [{ start_date: "2026-08-01", end_date: "2026-09-30" }],
      },
    ],
  });
  assert.deepEqual(Object.keys(config).sort(), CONFIG_KEYS);
  assert.match(config.token, /^vtag_[0-9a-f]{16}$/);
  assert.equal(config.backfill_until, "2026-08-01");
  assert.equal(config.values.length, 2);
  assert.match(config.values[0].token, /^vtag_val_[0-9a-f]{16}$/);
  assert.equal(config.values[0].name, "Compute team");
  assert.deepEqual(config.values[1].percentages, [
    { value: "Data team", pct: 60 }, { value: "Web team", pct: 40 },
  ]);
  assert.deepEqual(config.collapsed_tag_keys, [{ key: "owner", providers: ["aws"], filter: null }]);
});

await check("get, list and search by key", async () => {
  assert.deepEqual(await client.virtualTagConfigs.get(config.token), config);
  const listed = await client.virtualTagConfigs.list({ q: "owner" });
  assert.deepEqual(listed.virtual_tag_configs.map((c) => c.token), [config.token]);
  assert.equal((await client.virtualTagConfigs.list({ q: "nothing like it" })).virtual_tag_configs.length, 0);
});

await check("status: every provider complete once applied", async () => {
  const status = await client.virtualTagConfigs.getStatus(config.token);
  assert.equal(status.token, config.token);
  assert.equal(status.processing, false);
  assert.deepEqual(status.providers, [{ provider: "aws", status: "complete" }]);
});

await check("costs grouped by the virtual tag add up to the total, split by the percentages", async () => {
  const { byValue, total } = await costsByTag("Cost Owner");
  const sum = Object.values(byValue).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - total) <= Object.keys(byValue).length, `${sum} vs ${total}`);
  assert.ok(byValue["Compute team"] > 0);
  const ratio = byValue["Data team"] / (byValue["Data team"] + byValue["Web team"]);
  assert.ok(Math.abs(ratio - 0.6) < 0.001, String(ratio));
  const tags = await client.tags.list({ providers: ["aws"] });
  assert.ok(tags.tags.some((tag) => tag.tag_key === "Cost Owner"), JSON.stringify(tags.tags));
  const values = await client.tags.getValues("Cost Owner", {});
  assert.ok(values.tag_values.some((v) => v.tag_value === "Compute team"));
});

await check("a virtual tag filters in VQL like any tag", async () => {
  const body = await client.costs.list({
    filter: "costs.provider = 'aws' AND tags.name = 'Cost Owner' AND tags.value = 'Compute team'",
    ...PERIOD,
  });
  const { byValue } = await costsByTag("Cost Owner");
  assert.ok(Math.abs(cents(body.total_cost.amount) - byValue["Compute team"]) <= 1);
});

let value;
await check("values: create, get, update, delete", async () => {
  value = await client.virtualTagConfigs.createValue(config.token, {
    filter: "costs.provider = 'aws' AND costs.region = 'eu-west-1'",
    name: "Europe",
  });
  assert.match(value.token, /^vtag_val_[0-9a-f]{16}$/);
  assert.equal(value.name, "Europe");
  assert.deepEqual(await client.virtualTagConfigs.getValue(config.token, value.token), value);
  const updated = await client.virtualTagConfigs.updateValue(config.token, value.token, {
    name: "EU",
  });
  assert.equal(updated.name, "EU");
  assert.equal(updated.filter, value.filter);
  assert.equal((await client.virtualTagConfigs.get(config.token)).values.length, 3);
  await client.virtualTagConfigs.deleteValue(config.token, value.token);
  assert.equal((await client.virtualTagConfigs.get(config.token)).values.length, 2);
  await expectApiError(client.virtualTagConfigs.getValue(config.token, value.token), 404);
});

await check("update and asynchronous update", async () => {
  const updated = await client.virtualTagConfigs.update(config.token, { overridable: false });
  assert.equal(updated.overridable, false);
  assert.deepEqual(updated.values, config.values);
  const accepted = await client.virtualTagConfigs.updateAsyncVirtualTagConfig(config.token, {
    key: "Cost owner",
  });
  assert.match(accepted.request_id, /^[0-9a-f-]{36}$/);
  assert.equal(accepted.status_url, `/v2/virtual_tag_configs/async/${accepted.request_id}`);
  assert.equal(await client.virtualTagConfigs.getAsyncVirtualTagConfigStatus(accepted.request_id), true);
  assert.equal((await client.virtualTagConfigs.get(config.token)).key, "Cost owner");
  assert.equal(
    await client.virtualTagConfigs.getAsyncVirtualTagConfigStatus("00000000-0000-4000-8000-000000000000"),
    false,
  );
});

await check("bad input names the field; nothing is written", async () => {
  const before = (await client.virtualTagConfigs.list({})).virtual_tag_configs.length;
  await expectApiError(
    client.virtualTagConfigs.create({ key: "Broken", overridable: false, values: [{ filter: "costs.nope = 'x'", name: "a" }] }),
    400,
    "values[0].filter",
  );
  await expectApiError(
    client.virtualTagConfigs.create({
      key: "Broken", overridable: false,
      values: [{ filter: "", percentages: [{ value: "a", pct: 80 }, { value: "b", pct: 30 }] }],
    }),
    400,
    "values[0].percentages",
  );
  await expectApiError(client.virtualTagConfigs.create({ key: "", overridable: false }), 400, "key");
  await expectApiError(client.virtualTagConfigs.create({ key: "Cost owner", overridable: false }), 422, "key");
  assert.equal((await client.virtualTagConfigs.list({})).virtual_tag_configs.length, before);
});

await check("read-only tokens read; other organizations see nothing", async () => {
  assert.equal((await readOnly.virtualTagConfigs.get(config.token)).token, config.token);
  await expectApiError(readOnly.virtualTagConfigs.create({ key: "Nope", overridable: false }), 403);
  await expectApiError(other.virtualTagConfigs.get(config.token), 404);
  await expectApiError(other.virtualTagConfigs.getStatus(config.token), 404);
  await expectApiError(other.virtualTagConfigs.delete(config.token), 404);
  assert.equal((await other.virtualTagConfigs.list({})).virtual_tag_configs.length, 0);
});

await check("delete", async () => {
  await client.virtualTagConfigs.delete(config.token);
  await expectApiError(client.virtualTagConfigs.get(config.token), 404);
});

finish();
