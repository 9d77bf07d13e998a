"""A logged-in HTTP client that also posts forms, with the session's CSRF token or without it, and
reports the status and page of the answer (after redirects) instead of raising on a 4xx."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
from dataclasses import dataclass

from tests.support.server import RunningShoal
from tests.support.web_client import WebClient

Fields = dict[str, str] | list[tuple[str, str]]


@dataclass(frozen=True)
class Answer:
    status: int
    url: str  # where the answer came from, after any redirect
    body: str

    def text(self) -> str:
        return text_of(self.body)


def text_of(markup: str) -> str:
    """Markup's text, tags dropped, entities decoded and spaces squeezed: what a reader sees."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


class FormClient(WebClient):
    def __init__(self, shoal: RunningShoal) -> None:
        super().__init__(shoal)
        self.log_in()
        self._token: str | None = None

    @property
    def csrf_token(self) -> str:
        """The session's form token, as every page's logout form carries it."""
        if self._token is None:
            match = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/projects/"))
            assert match, "no CSRF token on the projects page"
            self._token = match[1]
        return self._token

    def fetch(self, path: str) -> Answer:
        return self._open(path, None)

    def post(self, path: str, fields: Fields, *, with_token: bool = True) -> Answer:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if with_token:
            pairs.append(("csrf_token", self.csrf_token))
        return self._open(path, urllib.parse.urlencode(pairs).encode())

    def _open(self, path: str, data: bytes | None) -> Answer:
        try:
            with self._opener.open(f"{self.base}{path}", data, timeout=60) as response:
                return Answer(response.status, response.geturl(), response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.geturl(), error.read().decode())
