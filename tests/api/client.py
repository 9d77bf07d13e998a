"""Talking to a running Shoal's `/api/0/` as a script would: a token from `shoal token create`, then
JSON over real HTTP with `Authorization: Bearer`."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from tests.support.http import Reply, post
from tests.support.server import RunningShoal

# The project `shoal run` makes on first start, in the default organization.
RULES = "projects/default/my-project/rules/"
LINK = re.compile(
    r'<(?P<url>[^>]*)>; rel="(?P<rel>\w+)"; results="(?P<results>true|false)"; cursor="(?P<cursor>[^"]*)"'
)


def shoal_command(server: RunningShoal, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m shoal ARGS` against the server's data (its environment)."""
    return subprocess.run(
        [sys.executable, "-m", "shoal", *args], env=server.env, capture_output=True, text=True, check=False
    )


def create_token(server: RunningShoal, *args: str) -> str:
    made = shoal_command(server, "token", "create", *args)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@dataclass(frozen=True)
class Api:
    server: RunningShoal
    token: str | None

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else b"")
        url = path if path.startswith("http") else f"{self.server.url}/api/0/{path.lstrip('/')}"
        return post(url, data, headers, method=method)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Reply:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> Reply:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Reply:
        return self.request("DELETE", path)


def links(reply: Reply) -> dict[str, dict[str, str]]:
    """The Link header's pages by rel: {"next": {"url", "results", "cursor"}, "previous": …}."""
    return {m["rel"]: m.groupdict() for m in LINK.finditer(reply.headers["link"])}


def without_rules(api: Api) -> Api:
    """The API, once the project has no rules (a new project starts with Sentry's default one)."""
    for rule in items(api.get(RULES)):
        assert api.delete(f"{RULES}{rule['id']}/").status == 202
    return api


def items(reply: Reply) -> list[dict[str, Any]]:
    """The reply's JSON list of objects (failing with the reply when it is something else)."""
    data = reply.json()
    assert isinstance(data, list) and all(isinstance(item, dict) for item in data), (reply.status, reply.body)
    return data


def record(reply: Reply) -> dict[str, Any]:
    """The reply's JSON object (failing with the reply when it is something else)."""
    data = reply.json()
    assert isinstance(data, dict), (reply.status, reply.body)
    return data
