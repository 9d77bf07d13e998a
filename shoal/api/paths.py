"""Where the API's routes live: every path is under PREFIX, Sentry's `/api/0/`."""

from __future__ import annotations

PREFIX = "/api/0/"
ORGANIZATION = PREFIX + "organizations/{org_slug}"
PROJECT = PREFIX + "projects/{org_slug}/{project_slug}"
