"""The pinned JavaScript SDKs the end-to-end tests run: tests/js/package.json and its lockfile.

`scripts/test` installs them with `npm ci` (once, and again when the lockfile changes). A test that
needs them skips when they are missing, with the command that installs them, except under CI=true,
where it fails: there a missing install step must not look like a pass.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.js.site import JS_DIR

NODE_MODULES = JS_DIR / "node_modules"


def require_node_modules() -> None:
    """Skip (fail under CI=true) unless node and the SDK packages are installed."""
    missing = [name for name in ("@sentry/node", "@sentry/browser") if not (NODE_MODULES / name).is_dir()]
    reason = ""
    if shutil.which("node") is None:
        reason = "node is not installed (Debian package 'nodejs')"
    elif missing:
        reason = f"{', '.join(missing)} not installed: run `npm ci` in {JS_DIR} (scripts/test does)"
    if not reason:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)
