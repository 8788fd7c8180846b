// Anomaly alerts, anomaly notifications, cost alerts and their events through Vantage's official
// TypeScript client, unchanged. Env: COSTLINE_URL; COSTLINE_REPORTS_TOKEN (read/write) and
// COSTLINE_REPORTS_READ_TOKEN (read only) of an organization with AWS costs for August and
// September 2026; COSTLINE_TOKEN, another organization's token. The checks that find anomalies
// and fire cost alerts run as the daily beat task would, through `manage.py run_alert_checks`
// against the server's own database (run.sh exports it).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { APIV2Client } from "@vantage-sh/vantage-client";
import { check, expectApiError, finish } from "./harness.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const baseUrl = process.env.COSTLINE_URL;
const client = new APIV2Client(process.env.COSTLINE_REPORTS_TOKEN, false, baseUrl);
const readOnly = new APIV2Client(process.env.COSTLINE_REPORTS_READ_TOKEN, false, baseUrl);
const other = new APIV2Client(process.env.COSTLINE_TOKEN, false, baseUrl);

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const ANOMALY_KEYS = [
  "alerted_at", "amount", "category", "cost_report_token", "created_at", "feedback",
  "previous_amount", "provider", "resource_tokens", "resources", "service",
  "seven_day_average", "status", "token",
].sort();
const NOTIFICATION_KEYS = [
  "cost_report_token", "created_at", "recipient_channels", "threshold", "token", "updated_at",
  "user_tokens",
].sort();
const COST_ALERT_KEYS = [
  "created_at", "email_recipients", "interval", "minimum_threshold", "report_tokens",
  "slack_channels", "teams_channels", "threshold", "title", "token", "unit_type",
  "updated_at", "workspace_token",
].sort();
const EVENT_KEYS = [
  "alert_token", "alert_type", "created_at", "description", "metadata", "report_token",
  "token", "triggered_at",
].sort();

let report;
let costAlert;
let anomaly;
let notification;

await check("setup: a report, a cost alert, then the daily checks", async () => {
  report = await client.costReports.create({ title: "Alerts: every AWS cost" });
  costAlert = await client.costAlerts.create({
    title: "Quarter to date",
    interval: "quarter",
    threshold: 1,
    unit_type: "currency",
    workspace_token: report.workspace_token,
    report_tokens: [report.token],
    email_recipients: ["finops@example.com"],
  });
  assert.deepEqual(Object.keys(costAlert).sort(), COST_ALERT_KEYS);
  assert.match(costAlert.token, /^cst_alrt_[0-9a-f]{16}$/);
  // Asynchronously: a blocked event loop would keep sockets the server has since closed.
  const { stdout: output } = await promisify(execFile)(
    resolve(root, ".venv/bin/python"),
    ["manage.py", "run_alert_checks", "--all", "--judge-from", "2026-08-01"],
    { cwd: root, env: process.env, encoding: "utf8" },
  );
  assert.match(output, /anomalies \d+/);
});

await check("anomaly alerts: list, filters, get", async () => {
  const listed = await client.anomalyAlerts.list({ cost_report_token: report.token, limit: 1000 });
  assert.ok(listed.anomaly_alerts.length > 0, "the sample data has anomalies");
  assert.ok(listed.links && "next" in listed.links);
  anomaly = listed.anomaly_alerts[0];
  assert.deepEqual(Object.keys(anomaly).sort(), ANOMALY_KEYS);
  assert.match(anomaly.token, /^anmly_alrt_[0-9a-f]{16}$/);
  assert.match(anomaly.created_at, ISO_Z);
  assert.equal(anomaly.cost_report_token, report.token);
  assert.equal(anomaly.status, "active");
  assert.ok(Number.isFinite(Number(anomaly.amount)));
  assert.deepEqual(await client.anomalyAlerts.get(anomaly.token), anomaly);
  const none = await client.anomalyAlerts.list({ start_date: "2027-01-01" });
  assert.deepEqual(none.anomaly_alerts, []);
  const paged = await client.anomalyAlerts.list({ limit: 1 });
  assert.equal(paged.anomaly_alerts.length, 1);
  await expectApiError(client.anomalyAlerts.list({ start_date: "soon" }), 400, "start_date");
});

await check("anomaly alerts: update status and feedback", async () => {
  const updated = await client.anomalyAlerts.update(anomaly.token, {
    status: "archived",
    feedback: "Expected: a migration",
  });
  assert.equal(updated.status, "archived");
  assert.equal(updated.feedback, "Expected: a migration");
  await expectApiError(client.anomalyAlerts.update(anomaly.token, { status: "gone" }), 400, "status");
  await expectApiError(readOnly.anomalyAlerts.update(anomaly.token, { status: "active" }), 403);
  await expectApiError(other.anomalyAlerts.get(anomaly.token), 404);
  assert.deepEqual((await other.anomalyAlerts.list({})).anomaly_alerts, []);
  assert.equal((await readOnly.anomalyAlerts.get(anomaly.token)).status, "archived");
});

await check("anomaly notifications: create, get, update, list, delete", async () => {
  notification = await client.anomalyNotifications.create({
    cost_report_token: report.token,
    threshold: 25,
    user_tokens: [],
    recipient_channels: [],
  });
  assert.deepEqual(Object.keys(notification).sort(), NOTIFICATION_KEYS);
  assert.match(notification.token, /^anmly_ntfctn_[0-9a-f]{16}$/);
  assert.equal(notification.threshold, 25);
  assert.deepEqual(await client.anomalyNotifications.get(notification.token), notification);
  const updated = await client.anomalyNotifications.update(notification.token, { threshold: 100 });
  assert.equal(updated.threshold, 100);
  assert.equal(updated.cost_report_token, report.token);
  const listed = await client.anomalyNotifications.list({});
  assert.ok(listed.anomaly_notifications.some((n) => n.token === notification.token));
  await expectApiError(
    client.anomalyNotifications.create({ cost_report_token: "rprt_0000000000000000" }),
    404,
    "cost_report_token",
  );
  await expectApiError(
    client.anomalyNotifications.update(notification.token, { threshold: -5 }),
    400,
    "threshold",
  );
  await expectApiError(
    client.anomalyNotifications.update(notification.token, { recipient_channels: ["#nowhere"] }),
    404,
    "recipient_channels",
  );
  await expectApiError(readOnly.anomalyNotifications.delete(notification.token), 403);
  await expectApiError(other.anomalyNotifications.get(notification.token), 404);
  assert.equal(await client.anomalyNotifications.delete(notification.token), undefined);
  await expectApiError(client.anomalyNotifications.get(notification.token), 404);
});

await check("cost alerts: list, get, update, validation, tenancy", async () => {
  const listed = await client.costAlerts.list({});
  assert.ok(listed.cost_alerts.some((a) => a.token === costAlert.token));
  const fetched = await client.request(`/v2/cost_alerts/${costAlert.token}`, "GET", {});
  assert.deepEqual(fetched, costAlert);
  const updated = await client.costAlerts.update(costAlert.token, {
    title: "Quarter to date, +1",
    email_recipients: ["finops@example.com", "cto@example.com"],
  });
  assert.equal(updated.title, "Quarter to date, +1");
  assert.deepEqual(updated.email_recipients, ["finops@example.com", "cto@example.com"]);
  await expectApiError(client.costAlerts.update(costAlert.token, { interval: "decade" }), 400, "interval");
  await expectApiError(
    client.costAlerts.create({
      title: "x", interval: "day", threshold: 1, unit_type: "currency",
      workspace_token: report.workspace_token, report_tokens: [report.token],
      email_recipients: ["nobody"],
    }),
    400,
    "email_recipients",
  );
  await expectApiError(other.costAlerts.update(costAlert.token, { title: "Mine" }), 404);
  assert.deepEqual((await other.costAlerts.list({})).cost_alerts, []);
});

await check("cost alert events: list, get one", async () => {
  const events = await client.costAlerts.getEvents(costAlert.token, { report_token: report.token });
  assert.equal(events.cost_alert_events.length, 1, "the quarter to date is above the last one");
  const event = events.cost_alert_events[0];
  assert.deepEqual(Object.keys(event).sort(), EVENT_KEYS);
  assert.match(event.token, /^cst_alrt_evnt_[0-9a-f]{16}$/);
  assert.equal(event.alert_token, costAlert.token);
  assert.equal(event.report_token, report.token);
  assert.match(event.triggered_at, ISO_Z);
  assert.equal(event.metadata.interval, "quarter");
  assert.deepEqual(await client.costAlerts.getEvent(costAlert.token, event.token), event);
  assert.deepEqual(await client.costAlerts.get(costAlert.token, event.token), event);
  await expectApiError(client.costAlerts.getEvent(costAlert.token, "cst_alrt_evnt_0"), 404);
  await expectApiError(other.costAlerts.getEvents(costAlert.token, {}), 404);
});

await check("cost alerts: delete", async () => {
  await expectApiError(readOnly.costAlerts.delete(costAlert.token), 403);
  assert.equal(await client.costAlerts.delete(costAlert.token), undefined);
  await expectApiError(client.costAlerts.getEvents(costAlert.token, {}), 404);
  assert.equal(await client.costReports.delete(report.token), undefined);
});

finish();
