// A small Node "shop" that reports to the DSN given as its argument through the real @sentry/node:
// two failed checkouts from one code path, the same failure reached from another caller, a message,
// a transaction with a child span, an unhandled promise rejection, and last an uncaught Error (the
// SDK reports it and exits with status 1). Release health is on, as it is by default: the SDK
// sends the process's session. Spans go out as the SDK's default span stream, or as one
// transaction with `node node_app.js DSN static` (traceLifecycle "static").
// tests/e2e/test_sentry_node.py runs it; each line it prints is the JSON of an event id it captured.
"use strict";

const Sentry = require("@sentry/node");

Sentry.init({
  dsn: process.argv[2],
  release: "shop-node@2.0.0",
  environment: "staging",
  tracesSampleRate: 1.0,
  traceLifecycle: process.argv[3] === "static" ? "static" : "stream",
});

function chargeCard(order) {
  if (!order.card) {
    throw new Error(`order ${order.id} has no card`);
  }
}

function checkout(order) {
  chargeCard(order);
}

function retryPayment(order) {
  chargeCard(order);
}

function report(kind, run) {
  try {
    run();
  } catch (error) {
    console.log(JSON.stringify({ kind, event_id: Sentry.captureException(error) }));
  }
}

async function loadInventory() {
  throw new TypeError("inventory service unreachable");
}

function settle() {
  // Node emits "unhandledRejection" once the microtask queue is empty, before any immediate runs.
  return new Promise((resolve) => setImmediate(resolve));
}

async function main() {
  for (const id of [1, 2]) {
    report("checkout", () => checkout({ id }));
  }
  report("retry", () => retryPayment({ id: 3 }));
  console.log(
    JSON.stringify({ kind: "message", event_id: Sentry.captureMessage("Inventory sync is slow", "warning") }),
  );
  Sentry.startSpan({ name: "nightly-report", op: "task" }, () => {
    Sentry.startSpan({ name: "load orders", op: "db.query" }, () => {});
  });
  loadInventory();
  await settle();
  await Sentry.flush(10000);
  // Thrown outside any promise, so it is an uncaught exception rather than a rejection.
  setImmediate(() => {
    throw new RangeError("shipping zone out of range");
  });
}

main();
