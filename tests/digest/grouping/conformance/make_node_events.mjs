// Re-create the Node events of the conformance suite with the real @sentry/node.
//
//   npm install --prefix /tmp/shoal-node @sentry/node@8
//   NODE_PATH=/tmp/shoal-node/node_modules node tests/digest/grouping/conformance/make_node_events.mjs
//
// Writes a small application to a scratch directory, runs each scenario under the SDK with a
// transport that keeps the events, and stores each event, trimmed of what grouping never reads,
// as events/node/<scenario>.json. The expected grouping is written by hand in expected.json.
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(process.env.NODE_PATH || ".", "x.js"));
const Sentry = require("@sentry/node");
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "events", "node");
const kept = ["platform", "level", "logger", "message", "logentry", "exception", "fingerprint", "tags", "sdk"];

const app = {
  // Each scenario runs in a microtask of its own, so its stack starts in Node's task queue (not in
  // app) rather than in this script.
  "runner.js": `
function runCase(Sentry, scenario, scope) {
  return Promise.resolve()
    .then(scenario)
    .catch((error) => {
      Sentry.withScope((s) => {
        if (scope.fingerprint) s.setFingerprint(scope.fingerprint);
        Sentry.captureException(error);
      });
    });
}
module.exports = { runCase };
`,
  "cart.js": `
const PRICES = { apple: 1 };
function priceOf(sku) {
  if (!(sku in PRICES)) throw new RangeError("unknown sku " + sku);
  return PRICES[sku];
}
function add(sku) {
  return priceOf(sku);
}
function addOrExplain(sku) {
  try {
    return add(sku);
  } catch (e) {
    throw new Error("could not add to cart", { cause: e });
  }
}
module.exports = { add, addOrExplain };
`,
  "jobs.js": `
async function fetchOrder(id) {
  await Promise.resolve();
  throw new Error("order " + id + " not found");
}
async function runJob(id) {
  return await fetchOrder(id);
}
class Checkout {
  submit(total) {
    throw new TypeError("total must be a number, got " + typeof total);
  }
}
function submitCheckout(total) {
  return new Checkout().submit(total);
}
module.exports = { runJob, submitCheckout };
`,
};

const events = [];
function keepingTransport(options) {
  return Sentry.createTransport(options, async (request) => {
    const lines = String(request.body).split("\n");
    for (let i = 0; i + 1 < lines.length; i++) {
      if (lines[i].includes('"type":"event"')) events.push(JSON.parse(lines[i + 1]));
    }
    return { statusCode: 200 };
  });
}

const scratch = mkdtempSync(join(tmpdir(), "shopapp-"));
for (const [name, source] of Object.entries(app)) writeFileSync(join(scratch, name), source);
process.chdir(scratch);
Sentry.init({ dsn: "http://public@127.0.0.1:9/1", transport: keepingTransport, defaultIntegrations: false,
  integrations: [Sentry.contextLinesIntegration(), Sentry.linkedErrorsIntegration()] });
const cart = require(join(scratch, "cart.js"));
const jobs = require(join(scratch, "jobs.js"));

const runner = require(join(scratch, "runner.js"));
const capture = (scenario, scope = {}) => runner.runCase(Sentry, scenario, scope);

const scenarios = {
  range_error: () => capture(cart.add.bind(null, "pear")),
  range_error_other_sku: () => capture(cart.add.bind(null, "plum")),
  async_error: () => capture(jobs.runJob.bind(null, 4711)),
  class_method: () => capture(jobs.submitCheckout.bind(null, "12")),
  cause_chain: () => capture(cart.addOrExplain.bind(null, "kiwi")),
  custom_fingerprint: () => capture(cart.add.bind(null, "pear"), { fingerprint: ["cart-unknown-sku"] }),
  hybrid_fingerprint: () => capture(cart.add.bind(null, "pear"), { fingerprint: ["{{ default }}", "eu"] }),
  message: async () => { Sentry.captureMessage("Checkout 4711 took 1500ms"); },
};

mkdirSync(out, { recursive: true });
for (const [name, run] of Object.entries(scenarios)) {
  const before = events.length;
  await run();
  await Sentry.flush(2000);
  const event = events[before];
  const trimmed = Object.fromEntries(kept.filter((k) => k in event).map((k) => [k, event[k]]));
  for (const exception of trimmed.exception?.values || []) {
    for (const frame of exception.stacktrace?.frames || []) {
      delete frame.pre_context; delete frame.post_context; delete frame.vars;
      for (const key of ["abs_path", "filename"]) {
        if (typeof frame[key] !== "string") continue;
        if (frame[key].startsWith(scratch)) frame[key] = "/srv/shopapp" + frame[key].slice(scratch.length);
        // The frame of this script that awaits each scenario: its path is the checkout's.
        if (frame[key].startsWith(here)) frame[key] = "/srv" + frame[key].slice(here.length);
      }
    }
  }
  trimmed.sdk = { name: event.sdk.name, version: event.sdk.version };
  writeFileSync(join(out, name + ".json"), JSON.stringify(trimmed, null, 1) + "\n");
}
console.log(`wrote ${Object.keys(scenarios).length} events to ${out}`);
