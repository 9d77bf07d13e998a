"""The Jinja2 environment for the web UI, with autoescaping on and the filters pages share.

Autoescaping is on for every template: event data comes from SDKs, i.e. from anyone holding a DSN,
and a DSN is public (it ships in every browser bundle). Nothing an SDK sent is ever marked safe.

Times: `{{ ts | timestamp }}` renders `<time datetime="…Z" title="… UTC">… UTC</time>`, which
`static/shoal.js` rewrites to the reader's time zone (the UTC title stays for hover);
`{{ ts | timestamp(ago=True) }}` says "3 hours ago" instead (`now=` to share one clock reading
across a page), with the same title.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from shoal.clock import iso_utc

_TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(default=True))
    env.filters.update(
        utc=format_utc,
        iso=format_iso,
        ago=format_ago,
        number=format_number,
        pretty=pretty_json,
        timestamp=time_element,
    )
    return Jinja2Templates(env=env)


def format_utc(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_element(timestamp: object, ago: bool = False, now: float | None = None) -> Markup:
    """A <time> for a unix timestamp; "" for anything else (an SDK may send a time as any type)."""
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool) or not math.isfinite(timestamp):
        return Markup("")
    try:
        utc = format_utc(timestamp)
    except (OverflowError, OSError, ValueError):  # years outside what datetime can hold
        return Markup("")
    shown = format_ago(timestamp, now) if ago else utc
    kind = "ago" if ago else "utc"
    return Markup(
        f'<time datetime="{escape(format_iso(timestamp))}" title="{escape(utc)}" data-shown="{kind}">'
        f"{escape(shown)}</time>"
    )


def format_iso(timestamp: float | None) -> str:
    return iso_utc(timestamp) or ""


def format_ago(timestamp: float | None, now: float | None = None) -> str:
    if timestamp is None:
        return ""
    seconds = max(0, int((now if now is not None else time.time()) - timestamp))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def format_number(value: int) -> str:
    return f"{value:,}"


def pretty_json(value: Any) -> str:
    """A readable rendering of a data bag (escaped by the template like any other text)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
