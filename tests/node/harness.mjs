// What every official-client test here shares: named checks that report TAP-like lines and keep
// going, the Vantage error assertion, money in cents, and the exit status.
import assert from "node:assert/strict";
import { VantageAPIError } from "@vantage-sh/vantage-client";

let passed = 0;
let failed = 0;

export async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${error?.stack ?? error}`);
  }
}

// The promise fails with a VantageAPIError of ``status`` whose first error names ``field``.
export async function expectApiError(promise, status, field) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof VantageAPIError, `expected VantageAPIError, got ${error}`);
    assert.equal(error.status, status, error.message);
    assert.ok(Array.isArray(error.errors) && error.errors.length > 0, "errors array expected");
    if (field) assert.ok(error.errors[0].startsWith(`${field}:`), error.errors[0]);
    return error;
  }
  assert.fail(`expected HTTP ${status}`);
}

export const cents = (text) => Math.round(Number(text) * 100);

export function finish() {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
