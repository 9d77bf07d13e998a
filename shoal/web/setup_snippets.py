"""The platforms a project can be made for, and the few lines that set up each one's Sentry SDK with
the project's DSN: what the setup page shows after a project is created.

The snippets are plain text; templates escape them like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sentry's platform ids (the `platform` of a project and of an event), with the names people know.
PLATFORMS: dict[str, str] = {
    "python": "Python",
    "node": "Node.js",
    "javascript": "Browser JavaScript",
    "other": "Other",
}

# The browser SDK's CDN bundle, for pages without a build step. Sentry's "Loader Script" is not
# offered: it is served per key by sentry.io and only knows sentry.io's projects.
BROWSER_BUNDLE_URL = "https://browser.sentry-cdn.com/9.38.0/bundle.min.js"


@dataclass(frozen=True)
class Step:
    """One step of a setup: what it is for, and the code to copy."""

    title: str
    code: str


def setup_steps(platform: str, dsn: str, slug: str) -> list[Step]:
    """The steps that make `platform`'s SDK send to `dsn`; an unknown platform gets the generic one."""
    make = {
        "python": _python,
        "node": _node,
        "javascript": _browser,
    }.get(platform, _other)
    return make(dsn, slug)


def _python(dsn: str, slug: str) -> list[Step]:
    return [
        Step("Install the SDK", "pip install sentry-sdk"),
        Step(
            "Initialize it as early as possible in your program",
            "import sentry_sdk\n\n"
            "sentry_sdk.init(\n"
            f'    dsn="{dsn}",\n'
            f'    release="{slug}@1.0.0",\n'
            '    environment="production",\n'
            ")",
        ),
        Step("Check that it works: an uncaught error becomes an issue", "division_by_zero = 1 / 0"),
    ]


def _node(dsn: str, slug: str) -> list[Step]:
    return [
        Step("Install the SDK", "npm install @sentry/node"),
        Step(
            "Initialize it before anything else is required",
            'const Sentry = require("@sentry/node");\n\n'
            "Sentry.init({\n"
            f'  dsn: "{dsn}",\n'
            f'  release: "{slug}@1.0.0",\n'
            '  environment: "production",\n'
            "});",
        ),
        Step(
            "Check that it works",
            'Sentry.captureException(new Error("Shoal test error"));',
        ),
    ]


def _browser(dsn: str, slug: str) -> list[Step]:
    init = f'Sentry.init({{\n  dsn: "{dsn}",\n  release: "{slug}@1.0.0",\n  environment: "production",\n}});'
    return [
        Step("With a bundler: install the SDK", "npm install @sentry/browser"),
        Step(
            "…and initialize it before your app's code runs",
            f'import * as Sentry from "@sentry/browser";\n\n{init}',
        ),
        Step(
            "Without a build step: load the SDK's bundle first in the page instead",
            f'<script src="{BROWSER_BUNDLE_URL}" crossorigin="anonymous"></script>\n'
            f"<script>\n{init}\n</script>",
        ),
    ]


def _other(dsn: str, slug: str) -> list[Step]:
    return [Step("Give this DSN to any Sentry SDK's init", dsn)]
