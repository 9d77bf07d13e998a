"""A logged-in client that reads a download as bytes, with its headers, for file-serving tests."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.web_client import WebClient


@dataclass(frozen=True)
class Download:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class DownloadClient(WebClient):
    def download(self, path: str) -> Download:
        with self._opener.open(f"{self.base}{path}", timeout=60) as response:
            headers = {name.lower(): value for name, value in response.getheaders()}
            return Download(response.status, headers, response.read())
