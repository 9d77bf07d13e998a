"""A logged-in HTTP client for pages, for tests that need a page's HTML but not a browser."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

from tests.support.server import ADMIN_EMAIL, ADMIN_PASSWORD, RunningShoal


class WebClient:
    def __init__(self, shoal: RunningShoal) -> None:
        self.base = shoal.url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def log_in(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
        form = self.get("/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert match, "the login form has no CSRF token"
        data = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": match[1], "next": "/"}
        )
        with self._opener.open(f"{self.base}/login", data.encode(), timeout=30) as response:
            assert response.status == 200

    def get(self, path: str) -> str:
        with self._opener.open(f"{self.base}{path}", timeout=30) as response:
            body: bytes = response.read()
            return body.decode()
