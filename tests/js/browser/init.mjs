// Sentry.init from the page's query string: ?dsn=… and, for the tunnel test, &tunnel=/tunnel.
// Sets window.sentryReady once the SDK is running, for the test to wait on.
import * as Sentry from "@sentry/browser";

const params = new URLSearchParams(window.location.search);
Sentry.init({
  dsn: params.get("dsn"),
  tunnel: params.get("tunnel") || undefined,
  release: "shop-web@3.1.0",
  environment: "production",
});
window.Sentry = Sentry;
window.sentryReady = true;
