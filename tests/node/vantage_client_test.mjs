// Drives Costline's /v2 API with Vantage's official TypeScript client, unchanged.
// Env: COSTLINE_URL (base URL), COSTLINE_TOKEN (read/write), COSTLINE_READ_TOKEN (read only).
import assert from "node:assert/strict";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, finish } from "./harness.mjs";

const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_READ_TOKEN, false, baseUrl);
const stranger = new APIV2Client("cstl_00000000_not-a-token", false, baseUrl);

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const SEGMENT_KEYS = [
  "created_at", "description", "filter", "parent_segment_token", "priority", "report_settings",
  "report_token", "title", "token", "track_unallocated", "workspace_token",
].sort();

function assertSegment(segment) {
  assert.deepEqual(Object.keys(segment).sort(), SEGMENT_KEYS);
  assert.match(segment.token, /^fltr_sgmt_[0-9a-f]{16}$/);
  assert.match(segment.workspace_token, /^wrkspc_[0-9a-f]{16}$/);
  assert.match(segment.created_at, ISO_Z);
  assert.equal(typeof segment.description, "string");
  assert.equal(typeof segment.priority, "number");
  assert.equal(typeof segment.track_unallocated, "boolean");
  assert.ok(segment.report_token === null || /^rprt_[0-9a-f]{16}$/.test(segment.report_token));
}

let workspaceToken;
let parent;
let child;

await check("ping", async () => {
  await client.ping.get();
});

await check("me", async () => {
  const me = await client.me.get();
  assert.match(me.default_workspace_token, /^wrkspc_[0-9a-f]{16}$/);
  assert.ok(Array.isArray(me.workspaces) && me.workspaces.length >= 1);
  assert.deepEqual(me.bearer_token.scope, ["read", "write"]);
  workspaceToken = me.default_workspace_token;
});

await check("workspaces list and get", async () => {
  const page = await client.workspaces.list({ page: 1, limit: 10 });
  assert.ok(page.links.self.startsWith(baseUrl));
  assert.equal(page.links.prev, null);
  const workspace = await client.workspaces.get(workspaceToken);
  assert.equal(workspace.token, workspaceToken);
  assert.equal(workspace.currency, "USD");
  assert.equal(workspace.enable_currency_conversion, false);
});

await check("create a top-level segment", async () => {
  parent = await client.segments.create({
    title: "Platform",
    description: "Everything the platform team runs",
    filter: "costs.provider = 'aws'",
    priority: 10,
    track_unallocated: true,
    workspace_token: workspaceToken,
    report_settings: { include_credits: false, include_tax: true, amortize: true },
  });
  assertSegment(parent);
  assert.equal(parent.title, "Platform");
  assert.equal(parent.parent_segment_token, null);
  assert.equal(parent.report_settings.amortize, true);
  assert.equal(parent.report_settings.include_credits, false);
});

await check("create a child segment under it", async () => {
  child = await client.segments.create({
    title: "Storage",
    filter: "costs.provider = 'aws' AND costs.service = 'AmazonS3'",
    parent_segment_token: parent.token,
  });
  assertSegment(child);
  assert.equal(child.parent_segment_token, parent.token);
  assert.equal(child.workspace_token, parent.workspace_token);
  assert.equal(child.description, "");
});

await check("get a segment", async () => {
  const fetched = await client.segments.get(child.token);
  assertSegment(fetched);
  assert.equal(fetched.title, "Storage");
  assert.equal(fetched.filter, child.filter);
});

await check("list segments with links pagination", async () => {
  const first = await client.segments.list({ page: 1, limit: 1 });
  assert.equal(first.segments.length, 1);
  assertSegment(first.segments[0]);
  assert.equal(first.links.prev, null);
  assert.ok(first.links.next.startsWith(baseUrl));
  assert.ok(first.links.first.startsWith(baseUrl));
  const second = await client.segments.list({ page: 2, limit: 1 });
  assert.equal(second.segments.length, 1);
  assert.notEqual(second.segments[0].token, first.segments[0].token);
  assert.equal(second.links.next, null);
  assert.ok(second.links.prev.startsWith(baseUrl));
});

await check("update a segment", async () => {
  const updated = await client.segments.update(child.token, { title: "Object storage", priority: 5 });
  assertSegment(updated);
  assert.equal(updated.title, "Object storage");
  assert.equal(updated.priority, 5);
  assert.equal(updated.parent_segment_token, parent.token);
});

await check("invalid VQL is a 400 with errors", async () => {
  const error = await expectApiError(
    client.segments.create({ title: "Broken", filter: "costs.provider = " }),
    400,
  );
  assert.ok(error.errors.join(" ").length > 10);
});

await check("missing title is a 400 with errors", async () => {
  await expectApiError(client.segments.create({ filter: "costs.provider = 'aws'" }), 400);
});

await check("unknown segment is a 404 with errors", async () => {
  await expectApiError(client.segments.get("fltr_sgmt_0000000000000000"), 404);
});

await check("read-only token cannot create (403)", async () => {
  await expectApiError(readOnly.segments.create({ title: "Nope", filter: "costs.provider = 'gcp'" }), 403);
});

await check("unknown token is a 401", async () => {
  await expectApiError(stranger.segments.list({}), 401);
});

await check("a filter read back posts back unchanged (LIKE on a region)", async () => {
  const eu = await client.segments.create({
    title: "EU regions",
    filter: "costs.provider = 'gcp' AND costs.region LIKE '%europe%'",
    workspace_token: workspaceToken,
  });
  const fetched = await client.segments.get(eu.token);
  const copy = await client.segments.create({
    title: "EU regions (copy)",
    filter: fetched.filter,
    workspace_token: workspaceToken,
  });
  assert.equal(copy.filter, fetched.filter);
  const updated = await client.segments.update(eu.token, { filter: fetched.filter });
  assert.equal(updated.filter, fetched.filter);
  await client.segments.delete(copy.token);
  await client.segments.delete(eu.token);
});

await check("a child filter outside its parent's provider is refused", async () => {
  const error = await expectApiError(
    client.segments.create({
      title: "GCP under AWS",
      filter: "costs.provider = 'gcp'",
      parent_segment_token: parent.token,
    }),
    422,
  );
  assert.match(error.errors[0], /aws/);
});

await check("page past the last points prev at the last page", async () => {
  const past = await client.segments.list({ page: 50, limit: 1 });
  assert.equal(past.segments.length, 0);
  assert.equal(past.links.next, null);
  assert.equal(past.links.prev, past.links.last);
});

await check("unknown workspace_token on the list is a 404", async () => {
  await expectApiError(
    client.segments.list({ workspace_token: "wrkspc_0000000000000000" }),
    404,
  );
});

await check("delete child then parent", async () => {
  assert.equal(await client.segments.delete(child.token), undefined);
  assert.equal(await client.segments.delete(parent.token), undefined);
  await expectApiError(client.segments.get(parent.token), 404);
});

finish();
