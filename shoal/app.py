"""The ASGI application: ingest routes on a fast path, `/api/0/` to the API, the rest to the web UI.

Ingest requests are matched with one regular expression and handled as plain ASGI, without
Starlette's routing and middleware: at thousands of requests a second every microsecond counts.
The regular expression is tried first, so the API can never take an ingest path: `/api/0/store/`
is ingest's (and refused there, as project 0 does not exist), `/api/0/projects/…` is the API's.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from shoal.api.app import create_api_app
from shoal.api.paths import PREFIX as API_PREFIX
from shoal.config import Config
from shoal.ingest.cron_endpoint import CronEndpoint
from shoal.ingest.keys import KeyCache
from shoal.ingest.limits import Limiter
from shoal.ingest.routes import IngestEndpoint
from shoal.ingest.tunnel import TUNNEL_PATHS, TunnelEndpoint
from shoal.spool.group_commit import GroupCommitter
from shoal.spool.sqlite import SqliteSpool
from shoal.web.routes import create_web_app
from shoal.web.templating import make_templates

# Relay's routes need the trailing slash (protocol.md §2).
_INGEST_PATH = re.compile(r"/api/(\d{1,18})/(envelope|store)/")
# Sentry's HTTP check-ins: the slug, then the key (optional); the trailing slash too (protocol.md §2).
_CRON_PATH = re.compile(r"/api/(\d{1,18})/cron/([^/]+)(?:/([^/]+))?/?")


class ShoalApp:
    def __init__(self, config: Config, engine: Engine) -> None:
        self.committer = GroupCommitter(lambda: SqliteSpool(config.spool_path, durable_writes=True))
        # Quota and rate-limit counts live in this process and are flushed to the store every few
        # seconds, and at shutdown (shoal/ingest/limits.py).
        self.limiter = Limiter(engine)
        keys = KeyCache(engine)  # one cache: a key disabled or limited applies to every door alike
        self.ingest = IngestEndpoint(config, keys, self.committer, self.limiter)
        self.tunnel = TunnelEndpoint(config, self.ingest)
        self.cron = CronEndpoint(config, keys, self.committer, self.limiter)
        self.api = create_api_app(config, engine, spool_append=self.committer.append)
        self.web = create_web_app(self._lifespan)
        self.web.state.config = config
        self.web.state.engine = engine
        self.web.state.templates = make_templates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = _INGEST_PATH.fullmatch(scope["path"])
            if match:
                await self.ingest.handle(scope, receive, send, int(match[1]), match[2])
                return
            cron = _CRON_PATH.fullmatch(scope["path"])
            if cron:
                await self.cron.handle(scope, receive, send, int(cron[1]), slug=cron[2], path_key=cron[3])
                return
            if scope["path"] in TUNNEL_PATHS:
                await self.tunnel.handle(scope, receive, send)
                return
            if scope["path"].startswith(API_PREFIX):
                await self.api(scope, receive, send)
                return
        await self.web(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.committer.start()
        self.limiter.start()
        try:
            yield
        finally:
            self.limiter.stop()
            self.committer.stop()
