"""Server-side PII scrubbing: remove secrets from a normalized event before anything of it is stored,
and record in `_meta` what was removed and by which rule, so the UI can say so.

The defaults are Sentry's data scrubber (`@common:filter` in Relay, reference/alerts-filters-quotas-
releases.md §8.1), on for every project unless switched off:
- **sensitive keys**: the value of any key (in a data bag, at any depth, and the first item of a
  `[key, value]` pair such as a tag or header) whose lower-cased name *contains* password, secret,
  passwd, api_key / api-key / apikey, auth, credentials, mysql_pwd, privatekey / private_key,
  token, or is exactly otp / two_factor → `[Filtered]` (rule `@password:filter`). So
  `Authorization`, `X-Api-Key`, `access_token`, `csrftoken` and `HTTP_AUTHORIZATION` are filtered;
- **cookies**: the `Cookie`, `Set-Cookie` and `HTTP_COOKIE` values whole, and keys named like a
  session or CSRF cookie (sessionid, session, phpsessid, csrf, xsrf-token, …), `@anything:filter`;
- **values by their shape**, replacing only the match: credit-card numbers (13–19 digits, spaces or
  dashes between them, a first digit 2–6 as the card networks use, Luhn-valid), IBANs (a country's
  code and length, mod-97-valid), US social security numbers (NNN-NN-NNNN), PEM key bodies, the
  password of `scheme://user:password@host`, and `Bearer <token>`;
- **query strings** (`request.query_string`, the query and fragment of `request.url`, a form body in
  `request.data`, a cookie string): each `name=value` pair by the key rules above; a JSON body sent
  as a string is read as the object it is (as Relay does) and scrubbed like one.

Where: every string of the data bags — frame local variables, breadcrumb messages and data, the
request (url, query string, headers, cookies, body, env), `extra`, `contexts`, `user`, `tags`,
exception mechanism data, logentry params, unknown top-level fields — and the shape rules alone
(replace-only, so a message is never destroyed whole) on exception values and the message. Sentry
leaves `$error.value` alone; Shoal scrubs it too, since the issue title is made from it.
Not scrubbed, as in Sentry: source context lines, file names and paths, and the SDK block; booleans
and null (they cannot hold a secret). A matching key's string becomes "[Filtered]"; its number or
container becomes null (Sentry's rule: only strings can be masked).

Sentry also replaces every string *value* that merely contains one of the key words ("User
authenticated" → [Filtered]); Shoal matches the words in keys only and finds secrets in values by
their shape. Project settings (`project.scrubbing`, `ScrubbingSettings`) add sensitive fields
(matched in keys and values, as Sentry's "Additional Sensitive Fields", rule `strip-fields`), safe
fields (key names whose values are never touched), and "scrub IP addresses" (removes
`user.ip_address`, `REMOTE_ADDR`, `X-Forwarded-For` and `X-Real-IP`; off by default, as in Sentry).

Order: the digest scrubs right after normalizing and *before grouping*, as Sentry does (Relay
scrubs before the event reaches grouping): the hashes then match Sentry's for the same event, and
the issue title, culprit and tag values, made from the event after this step, cannot carry what was
removed. The price is that grouping by a message or exception value sees `[Filtered]` where a card
number was, which groups such events together — the wanted outcome.

`_meta` mirrors the event's paths (list indices as strings) down to each changed value:
`{"": {"rem": [[rule, "s", start, end]], "len": original length}}` for a substitution (the range is
where "[Filtered]" now stands), `[[rule, "x"]]` for a value removed (null). What the SDK already
recorded there (its own "!config" scrubbing, trimming lengths) is kept.

The event is changed in place (see `scrub_event`). Cost (bench/scrub_cost.py; ~90 µs of CPU a corpus
event, docs/scrubbing.md): the walk visits each key of the data bags once, with a cached verdict per
key name, and skips a frame variable equal to the one an earlier frame had; strings are not matched
one by one but joined and searched in bulk with a few C-speed passes (a byte translation, then
substring searches for marks every secret's shape contains); only the strings those passes flag are
matched precisely, and only when one really holds a secret are the bags walked a second time to
find where it sits. Every pattern's work is bounded or linear in the string, so a hostile event
(up to SHOAL_MAX_EVENT_BYTES) cannot make it slow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from shoal.store.projects import ScrubbingSettings

FILTERED = "[Filtered]"

PASSWORD_RULE = "@password:filter"
COOKIE_RULE = "@anything:filter"
CREDITCARD_RULE = "@creditcard:filter"
IBAN_RULE = "@iban:filter"
SSN_RULE = "@usssn:filter"
PEMKEY_RULE = "@pemkey:filter"
URLAUTH_RULE = "@urlauth:legacy"
BEARER_RULE = "@bearer:filter"
FIELDS_RULE = "strip-fields"
IP_RULE = "@ip:remove"
DEPTH_RULE = "!limit"

# What the event page says a rule removed (its tooltip); the SDK's own "!config" included.
RULE_DESCRIPTIONS = {
    PASSWORD_RULE: "the value of a sensitive key (password, secret, token, auth, …)",
    COOKIE_RULE: "a cookie, or the value of a session or CSRF cookie's name",
    CREDITCARD_RULE: "a credit card number",
    IBAN_RULE: "an IBAN",
    SSN_RULE: "a US social security number",
    PEMKEY_RULE: "a PEM key",
    URLAUTH_RULE: "a password in a URL",
    BEARER_RULE: "a bearer token",
    FIELDS_RULE: "a value with one of this project's sensitive fields",
    IP_RULE: "an IP address (this project scrubs IP addresses)",
    DEPTH_RULE: "data nested too deep to check",
    "!config": "what the SDK filtered before it sent the event",
}

# Keys (lower-cased) whose value is a secret: Sentry's word list, matched anywhere in the key.
_SENSITIVE_KEY = re.compile(
    r"password|passwd|secret|api[-_]?key|auth|credentials|mysql_pwd|private[-_]?key|token|^otp$|^two[-_]factor$"
)
_COOKIE_VALUES = frozenset({"cookie", "set-cookie", "set_cookie", "http_cookie"})
# Session and CSRF cookie names of the common frameworks (Relay's list), as exact key names.
_SESSION_COOKIES = frozenset(
    {
        "session",
        "sessionid",
        "__session",
        "user_session",
        "phpsessid",
        "symfony",
        "sentrysid",
        "sudo",
        "su",
        "fasthttpsessionid",
        "mysession",
        "irissessionid",
        "_vercel_jwt",
        "csrf",
        "xsrf",
        "_csrf",
        "_xsrf",
        "csrf-token",
        "csrf_token",
        "xsrf-token",
        "xsrf_token",
        "fastcsrf",
        "_iris_csrf",
        "connect.sid",
    }
)
_IP_KEYS = frozenset(
    {
        "ip_address",
        "remote_addr",
        "x-forwarded-for",
        "x_forwarded_for",
        "http_x_forwarded_for",
        "x-real-ip",
        "x_real_ip",
        "http_x_real_ip",
    }
)
_SAFE = "safe"  # a verdict: never touch this key's value
_KEY_CACHE_SIZE = 8192
_CACHED_KEY_LENGTH = 100
# Deeper containers in a data bag are dropped rather than left unchecked (and Python's recursion
# must stay bounded: orjson reads JSON 1,024 levels deep). Relay trims data bags at depth 5–7.
MAX_DEPTH = 64

# Top-level fields that are never scrubbed, or are scrubbed by their own code below.
_NOT_BAGS = frozenset(
    {
        "event_id",
        "timestamp",
        "received",
        "level",
        "platform",
        "logger",
        "transaction",
        "release",
        "dist",
        "environment",
        "server_name",
        "culprit",
        "fingerprint",
        "checksum",
        "sdk",
        "modules",
        "debug_meta",
        "_meta",
        "type",
        "version",
        "start_timestamp",
        "transaction_info",
        "grouping_config",
        "hashes",
        "exception",
        "threads",
        "stacktrace",
        "logentry",
        "request",
        "breadcrumbs",
    }
)

# ------------------------------------------------------------------------ the shapes of secrets

_CARD = re.compile(r"(?<![0-9A-Za-z-])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_IBAN = re.compile(r"\b([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){11,30})\b")
# A PEM key between its header and footer; matched from the last header before each footer, so
# the work stays linear in the string however many headers a hostile one repeats.
_PEM = re.compile(
    r"-----BEGIN[A-Z ]{0,40}(?:PRIVATE|PUBLIC) KEY-----\s*(.+?)\s*"
    r"-----END[A-Z ]{0,40}(?:PRIVATE|PUBLIC) KEY-----",
    re.DOTALL,
)
# The password of `scheme://user:password@`, matched right after each "//" (the scheme does not
# matter), with bounded parts so that no string makes it slow.
_URL_AUTH = re.compile(r"[^\s/@:]{1,256}:([^\s/@]{1,256})@")
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)")
# Lengths of the IBANs of every country that issues them (the ISO 13616 registry).
_IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FO", "GL", "NL"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "XK"], 20),
    **dict.fromkeys(["CH", "CR", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["IQ", "JO", "KW", "MU"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
    **dict.fromkeys(["RU"], 33),
}

# The bulk pre-check. The strings are joined with NUL and encoded one byte a character, then
# translated: digits become "0", a space becomes "-", the letters of "bearer" become lower-case,
# everything else stays. Every secret of a known shape then contains one of these marks: ten
# digits in a row (a card or an IBAN written whole: each country's IBAN has a run of ten or more
# digits); groups of 4, 4 and 2+ digits split by spaces or dashes (a card or an IBAN written in
# groups, the Dutch IBAN's last group has two); 4 and 6 (an Amex card); "000-00-0000" (an SSN);
# "-----BEGIN" (a PEM key); "bearer" in any case; and "@" after "//" in the same string (a URL's
# password). Each search is one pass at C speed. The groups are three because a UUID often has
# two groups of four digits in a row; hex ids still have ten digits in a row now and then, and
# are let go by the precise patterns.
_MARKED = bytes(
    ord("0") if 48 <= b <= 57 else 45 if b == 32 else b + 32 if b in b"BEAR" else b for b in range(256)
)
_MARKS = (b"0000000000", b"0000-0000-00", b"0000-000000", b"000-00-0000", b"-----beGIN", b"bearer")

Remark = list[Any]
Found = tuple[str, list[Remark]]  # a string's scrubbed text and its remarks


def scrub_event(event: dict[str, Any], settings: ScrubbingSettings) -> dict[str, Any]:
    """Replace the event's secrets in place and say in its `_meta` where and why; returns the
    event. In place, as grouping changes the event too: the digest's event is its own (normalize
    built it), and copying every container on a changed path cost ~1.7 µs a change — a Django
    event has twenty (bench/scrub_cost.py). Scrub a deep copy to keep the original."""
    if not settings.enabled and not settings.scrub_ip_addresses:
        return event
    scrub = _Scrub(_scrubber(settings), event)
    scrub.walk_event()
    if settings.enabled:
        scrub.check_strings()
    if scrub.changes:
        _apply(event, scrub.changes)
    return event


class _Scrubber:
    """The compiled form of one project's settings, with a cache of verdicts by key name."""

    def __init__(self, settings: ScrubbingSettings) -> None:
        self.defaults = settings.enabled
        self.scrub_ips = settings.scrub_ip_addresses
        self.safe = frozenset(name.strip().lower() for name in settings.safe_fields if name.strip())
        fields = [name.strip().lower() for name in settings.sensitive_fields if name.strip()]
        self.fields = [field.encode("ascii", "replace") for field in fields] if settings.enabled else []
        self.fields_pattern = (
            re.compile("|".join(re.escape(field) for field in fields), re.IGNORECASE) if self.fields else None
        )
        self.verdicts: dict[str, str] = {}

    def verdict(self, key: str) -> str:
        """The rule that removes this key's value, _SAFE, or "" when none applies."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self._judge(key.lower())
            if len(key) <= _CACHED_KEY_LENGTH:  # a long "key" is the first string of some pair
                if len(self.verdicts) >= _KEY_CACHE_SIZE:
                    self.verdicts.clear()
                self.verdicts[key] = verdict
        return verdict

    def _judge(self, key: str) -> str:
        if key in self.safe:
            return _SAFE
        if self.scrub_ips and key in _IP_KEYS:
            return IP_RULE
        if not self.defaults:
            return ""
        if key in _COOKIE_VALUES or key in _SESSION_COOKIES:
            return COOKIE_RULE
        if _SENSITIVE_KEY.search(key):
            return PASSWORD_RULE
        fields = self.fields_pattern
        return FIELDS_RULE if fields is not None and fields.search(key) else ""


@lru_cache(maxsize=256)
def _scrubber(settings: ScrubbingSettings) -> _Scrubber:
    return _Scrubber(settings)


# A path while walking: (parent path, key), None at the event's root. Each container's is made once
# and shared by its members', so `_meta`'s node for a path is found again by the path's identity.
Link = tuple[Any, str | int] | None
Key = str | int
# A change: the container and key of the value, its path, its new value, the remarks, and the
# original string's length.
Change = tuple[Any, Key, tuple[Any, Key], Any, list[Remark], int | None]


class _Scrub:
    """One event's scrubbing: walk the data bags applying the key rules, check the strings they
    hold in bulk, and, when one holds a secret, walk again to find where."""

    def __init__(self, scrubber: _Scrubber, event: dict[str, Any]) -> None:
        self.s = scrubber
        self.event = event
        self.changes: list[Change] = []
        self.strings: list[str] = []  # the bags' strings, for the bulk check
        # The strings that get the shapes only (exception values, the message), where they are.
        self.messages: list[tuple[dict[str, Any], str, tuple[Any, Key], str]] = []
        self.found: dict[str, Found] | None = None  # what to replace, during the second walk

    # ------------------------------------------------------------------------------ the walk

    def walk_event(self) -> None:
        event = self.event
        for name in event:
            if name not in _NOT_BAGS:
                self._value(event, name, (None, name))
        self._exceptions(event.get("exception"))
        self._thread_stacks(event.get("threads"))
        stacktrace = event.get("stacktrace")
        if type(stacktrace) is dict:
            self._frames(stacktrace, (None, "stacktrace"))
        logentry = event.get("logentry")
        if type(logentry) is dict:
            link = (None, "logentry")
            for name in ("formatted", "message"):
                self._message(logentry, name, link)
            if "params" in logentry:
                self._value(logentry, "params", (link, "params"))
        self._breadcrumbs(event.get("breadcrumbs"))
        request = event.get("request")
        if type(request) is dict:
            self._request(request)

    def _message(self, container: dict[str, Any], name: str, link: Link) -> None:
        text = container.get(name)
        if type(text) is str and self.found is None:
            self.messages.append((container, name, (link, name), text))

    def _exceptions(self, container: object) -> None:
        values = container.get("values") if type(container) is dict else None
        if type(values) is not list:
            return
        root: Link = ((None, "exception"), "values")
        for index, exception in enumerate(values):
            if type(exception) is not dict:
                continue
            link = (root, index)
            self._message(exception, "value", link)
            mechanism = exception.get("mechanism")
            if type(mechanism) is dict and "data" in mechanism:
                self._value(mechanism, "data", ((link, "mechanism"), "data"))
            stacktrace = exception.get("stacktrace")
            if type(stacktrace) is dict:
                self._frames(stacktrace, (link, "stacktrace"))

    def _thread_stacks(self, container: object) -> None:
        values = container.get("values") if type(container) is dict else None
        if type(values) is not list:
            return
        root: Link = ((None, "threads"), "values")
        for index, thread in enumerate(values):
            if type(thread) is dict and type(thread.get("stacktrace")) is dict:
                self._frames(thread["stacktrace"], ((root, index), "stacktrace"))

    def _frames(self, stacktrace: dict[str, Any], link: Link) -> None:
        frames = stacktrace.get("frames")
        if type(frames) is not list:
            return
        root: Link = (link, "frames")
        seen: dict[str, list[tuple[Any, list[Relative]]]] = {}
        for index, frame in enumerate(frames):
            if type(frame) is dict and "vars" in frame:
                variables = frame["vars"]
                if type(variables) is dict and self.found is None:
                    self._vars(variables, ((root, index), "vars"), seen)
                else:
                    self._value(frame, "vars", ((root, index), "vars"))

    def _vars(self, variables: dict[str, Any], link: tuple[Any, Key], seen: dict[str, list[Any]]) -> None:
        """A frame's variables, in the first walk: `_dict`, but sentry-python serializes each
        frame's locals apart, so a dict passed down the stack is in every frame's. One equal to
        what an earlier frame had under the same name is not walked again; its changes are
        repeated (on the corpus, 14 of the 18 such values an event has). Equality is Python's, so
        a 1 may stand for a True: a sensitive key's 1 could then be kept where a True was."""
        verdicts = self.s.verdicts
        strings = self.strings
        for key, member in variables.items():
            rule = verdicts.get(key)
            if rule is None:
                rule = self.s.verdict(key)
            if rule:
                if rule is not _SAFE:
                    self._redact(variables, key, (link, key), rule)
                continue
            kind = type(member)
            if kind is str:
                strings.append(member)
            elif kind is dict or kind is list:
                for earlier, relatives in seen.get(key, ()):
                    if earlier == member:
                        self._repeat(member, (link, key), relatives)
                        break
                else:
                    here = (link, key)
                    start = len(self.changes)
                    if kind is dict:
                        self._dict(member, here, 2)
                    else:
                        self._list(member, here, 2)
                    relatives = [_relative(change, here) for change in self.changes[start:]]
                    seen.setdefault(key, []).append((member, relatives))

    def _repeat(self, member: Any, link: tuple[Any, Key], relatives: list[Relative]) -> None:
        for path, value, remarks, length in relatives:
            container = member
            step: tuple[Any, Key] = link
            for key in path[:-1]:
                container = container[key]
                step = (step, key)
            self.changes.append((container, path[-1], (step, path[-1]), value, remarks, length))

    def _breadcrumbs(self, container: object) -> None:
        values = container.get("values") if type(container) is dict else None
        if type(values) is not list:
            return
        root: Link = ((None, "breadcrumbs"), "values")
        if self.found is not None:
            self._breadcrumbs_again(values, root)
            return
        # The first walk, inlined: an event has up to 100 breadcrumbs, each with a small `data`
        # of clean keys and scalars, and a call per crumb cost more than its loop.
        strings = self.strings
        verdicts = self.s.verdicts
        for index, crumb in enumerate(values):
            if type(crumb) is not dict:
                continue
            message = crumb.get("message")
            if type(message) is str:
                strings.append(message)
            data = crumb.get("data")
            if type(data) is not dict:
                if data is not None:
                    self._value(crumb, "data", ((root, index), "data"))
                continue
            for key, member in data.items():
                rule = verdicts.get(key)
                kind = type(member)
                if rule == "" and kind is not dict and kind is not list:
                    if kind is str:
                        strings.append(member)
                    continue
                self._dict(data, ((root, index), "data"), 1)  # anything else: the general walk
                break

    def _breadcrumbs_again(self, values: list[Any], root: Link) -> None:
        for index, crumb in enumerate(values):
            if type(crumb) is dict:
                if type(crumb.get("message")) is str:
                    self._found_at(crumb, "message", (root, index), crumb["message"])
                if "data" in crumb:
                    self._value(crumb, "data", ((root, index), "data"))

    def _request(self, request: dict[str, Any]) -> None:
        root: Link = (None, "request")
        for name, value in request.items():
            if type(value) is str and name in _QUERY_LIKE:
                self._query_like(request, name, value, (root, name))
            else:
                self._value(request, name, (root, name))

    def _query_like(self, request: dict[str, Any], name: str, value: str, link: tuple[Any, Key]) -> None:
        """A request string that may hold name=value pairs: the query and fragment of the URL, the
        query string, a form body, the cookies."""
        if self.s.defaults and name == "data" and value[:1] in ("{", "["):
            # A JSON body sent as a string: read as the object it is (as Relay normalizes it), so
            # its keys are judged like those of a body the SDK sent parsed.
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                parsed = None
            if type(parsed) is dict or type(parsed) is list:
                request[name] = parsed
                self._value(request, name, link)
                return
        if self.s.defaults and "=" in value:
            if name == "url":
                scrubbed = _scrub_url(value, self.s.verdict)
            elif name == "cookies":
                scrubbed = _scrub_pairs(value, ";", self.s.verdict)
            elif name == "data" and not _FORM_BODY.fullmatch(value):
                scrubbed = None
            else:
                scrubbed = _scrub_pairs(value, "&", self.s.verdict)
            if scrubbed is not None:
                if self.found is None:  # recorded once, by the first walk
                    text, remarks = _shapes(scrubbed[0], scrubbed[1], messages=False, scrubber=self.s)
                    self.changes.append((request, name, link, text, remarks, len(value)))
                return
        if self.found is None:
            self.strings.append(value)
        else:
            self._found_at(request, name, link[0], value)

    def _value(self, container: Any, key: Key, link: tuple[Any, Key]) -> None:
        """The value at `container[key]`, the root of a data bag: any JSON value."""
        value = container[key]
        kind = type(value)
        if kind is dict:
            self._dict(value, link, 1)
        elif kind is list:
            self._list(value, link, 1)
        elif kind is str:
            if self.found is None:
                self.strings.append(value)
            else:
                self._found_at(container, key, link[0], value)

    def _found_at(self, container: Any, key: Key, parent: Link, value: str) -> None:
        """During the second walk: replace the string at `container[key]` if it is one found."""
        hit = self.found.get(value) if self.found is not None else None
        if hit is not None:
            self.changes.append((container, key, (parent, key), hit[0], hit[1], len(value)))

    def _dict(self, value: dict[str, Any], link: tuple[Any, Key], depth: int) -> None:
        # The hot loop of the scrubber: locals, and the verdict cache read inline.
        verdicts = self.s.verdicts
        strings = self.strings if self.found is None else None
        for key, member in value.items():
            rule = verdicts.get(key)
            if rule is None:
                rule = self.s.verdict(key)
            if rule:
                if rule is not _SAFE:
                    self._redact(value, key, (link, key), rule)
                continue
            kind = type(member)
            if kind is str:
                if strings is not None:
                    strings.append(member)
                else:
                    self._found_at(value, key, link, member)
            elif kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    self._too_deep(value, key, (link, key))
                elif kind is dict:
                    self._dict(member, (link, key), depth + 1)
                else:
                    self._list(member, (link, key), depth + 1)

    def _list(self, value: list[Any], link: tuple[Any, Key], depth: int) -> None:
        strings = self.strings if self.found is None else None
        for index, member in enumerate(value):
            kind = type(member)
            if kind is str:
                if strings is not None:
                    strings.append(member)
                else:
                    self._found_at(value, index, link, member)
            elif kind is dict or kind is list:
                if depth >= MAX_DEPTH:
                    self._too_deep(value, index, (link, index))
                    continue
                # A [key, value] pair (tags, headers, a query string sent as pairs) is judged by
                # its key, as Relay does with every two-item array that starts with a string.
                if kind is list and len(member) == 2 and type(member[0]) is str:
                    rule = self.s.verdict(member[0])
                    if rule:
                        if rule is not _SAFE:
                            self._redact(member, 1, ((link, index), 1), rule)
                        continue
                if kind is dict:
                    self._dict(member, (link, index), depth + 1)
                else:
                    self._list(member, (link, index), depth + 1)

    def _redact(self, container: Any, key: Key, link: tuple[Any, Key], rule: str) -> None:
        """The value at `container[key]` is under a sensitive key."""
        if self.found is not None:
            return  # the first walk recorded it
        value = container[key]
        kind = type(value)
        if rule is IP_RULE:
            # Removed, not masked: "[Filtered]" would become every user's `user` tag.
            if value is not None:
                self.changes.append((container, key, link, None, [[rule, "x"]], None))
        elif kind is str:
            if value and value != FILTERED:
                self.changes.append(
                    (container, key, link, FILTERED, [[rule, "s", 0, _FILTERED_LENGTH]], len(value))
                )
        elif kind is int or kind is float or ((kind is dict or kind is list) and value):
            # Only strings can be masked; numbers and containers go, as in Sentry. Booleans and
            # null stay: they cannot hold a secret.
            self.changes.append((container, key, link, None, [[rule, "x"]], None))

    def _too_deep(self, container: Any, key: Key, link: tuple[Any, Key]) -> None:
        if self.found is None:
            self.changes.append((container, key, link, None, [[DEPTH_RULE, "x"]], None))

    # ------------------------------------------------------------------------ the bulk check

    def check_strings(self) -> None:
        messages = [message[3] for message in self.messages]
        everything = messages + self.strings
        if not everything:
            return
        flagged = _flag(everything, self.s.fields)
        if not flagged:
            return
        found: dict[str, Found] = {}
        checked: set[str] = set()  # the same id sits in many frames' variables
        for index in flagged:
            text = everything[index]
            is_message = index < len(messages)
            if not is_message:
                if text in checked:
                    continue
                checked.add(text)
            scrubbed, remarks = _shapes(text, [], messages=is_message, scrubber=self.s)
            if not remarks:
                continue
            if is_message:
                container, key, link, _ = self.messages[index]
                self.changes.append((container, key, link, scrubbed, remarks, len(text)))
            else:
                found[text] = (scrubbed, remarks)
        if found:
            # Rare: a bag string really holds a secret. Walk again to find where it sits.
            self.found = found
            self.walk_event()


# A change made inside a frame variable, relative to it: the keys down to the value, and the rest.
Relative = tuple[tuple[Key, ...], Any, list[Remark], int | None]


def _relative(change: Change, base: tuple[Any, Key]) -> Relative:
    _, _, link, value, remarks, length = change
    keys: list[Key] = []
    step: Link = link
    while step is not None and step is not base:
        step, key = step
        keys.append(key)
    keys.reverse()
    return tuple(keys), value, remarks, length


_FILTERED_LENGTH = len(FILTERED)
_QUERY_LIKE = frozenset({"url", "query_string", "fragment", "data", "cookies"})
_FORM_BODY = re.compile(r"[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*")


def _flag(strings: list[str], fields: list[bytes]) -> list[int]:
    """The indices of the strings that may hold a secret of some shape (or a sensitive field's
    name): a superset, found with a few passes over all of them at once."""
    # A NUL before the first string too: string i is the one after i + 1 NULs.
    joined = "\x00" + "\x00".join(strings)
    if joined.count("\x00") != len(strings):  # a string holds a NUL itself, which would miscount
        joined = "\x00" + "\x00".join(string.replace("\x00", " ") for string in strings)
    data = joined.encode("ascii", "replace")  # one byte per character
    marked = data.translate(_MARKED)
    hits: list[int] = []
    for mark in _MARKS:
        _find_all(marked, mark, hits)
    at = data.find(b"@")
    while at != -1:
        start = data.rfind(b"\x00", 0, at) + 1
        if data.find(b"//", start, at) != -1:
            hits.append(at)
        end = data.find(b"\x00", at)
        at = data.find(b"@", end) if end != -1 else -1
    if fields:
        lowered = data.lower()
        for field in fields:
            _find_all(lowered, field, hits)
    indices: list[int] = []
    nuls = previous = 0
    for at in sorted(hits):
        nuls += data.count(b"\x00", previous, at)
        previous = at
        if not indices or indices[-1] != nuls - 1:
            indices.append(nuls - 1)
    return indices


def _find_all(haystack: bytes, needle: bytes, hits: list[int]) -> None:
    """A position in each NUL-separated string of `haystack` that holds `needle` (none holds NUL)."""
    at = haystack.find(needle)
    while at != -1:
        hits.append(at)
        end = haystack.find(b"\x00", at)
        if end == -1:
            return
        at = haystack.find(needle, end)


def _shapes(text: str, remarks: list[Remark], *, messages: bool, scrubber: _Scrubber) -> Found:
    """`text` with every secret of a known shape replaced; `remarks` are those already made on it
    (ranges in `text`), returned with the new ones. Messages get the shapes only; other strings
    also the project's sensitive fields, which replace the whole value."""
    if not messages and scrubber.fields_pattern is not None and scrubber.fields_pattern.search(text):
        return FILTERED, [[FIELDS_RULE, "s", 0, len(FILTERED)]]
    spans: list[tuple[int, int, str]] = []  # what to replace, in `text`
    if "-----END" in text:
        _pem_spans(text, spans)
    if "@" in text:
        _url_auth_spans(text, spans)
    for pattern, rule, group, valid, needs in _SHAPES:
        if needs is not None and not needs(text):
            continue
        for match in pattern.finditer(text):
            if valid is None or valid(match):
                spans.append((match.start(group), match.end(group), rule))
    if not spans:
        return text, remarks
    return _replace(text, spans, remarks)


def _pem_spans(text: str, spans: list[tuple[int, int, str]]) -> None:
    """The body of each PEM key: for each footer, from the last header before it."""
    done = 0
    end = text.find("-----END")
    while end != -1:
        begin = text.rfind("-----BEGIN", done, end)
        if begin != -1:
            match = _PEM.match(text, begin, end + 70)  # the footer is at most 68 long
            if match:
                spans.append((match.start(1), match.end(1), PEMKEY_RULE))
        done = end + 8
        end = text.find("-----END", done)


def _url_auth_spans(text: str, spans: list[tuple[int, int, str]]) -> None:
    at = text.find("//")
    while at != -1:
        match = _URL_AUTH.match(text, at + 2)
        if match:
            spans.append((match.start(1), match.end(1), URLAUTH_RULE))
        at = text.find("//", match.end() if match else at + 2)


def _replace(text: str, spans: list[tuple[int, int, str]], remarks: list[Remark]) -> Found:
    """Replace each span (skipping ones that overlap an earlier one) by [Filtered]; shift the
    ranges of the remarks already made to where they end up."""
    spans.sort()
    pieces: list[str] = []
    new_remarks: list[Remark] = []
    position = 0
    shift = 0  # how much longer the new text is than the old, so far
    old = sorted(remarks, key=lambda remark: remark[2])
    for start, end, rule in spans:
        if start < position:
            continue
        while old and old[0][2] < start:
            remark = old.pop(0)
            new_remarks.append([remark[0], remark[1], remark[2] + shift, remark[3] + shift])
        pieces.append(text[position:start])
        new_start = start + shift
        pieces.append(FILTERED)
        new_remarks.append([rule, "s", new_start, new_start + len(FILTERED)])
        shift += len(FILTERED) - (end - start)
        position = end
    pieces.append(text[position:])
    for remark in old:
        new_remarks.append([remark[0], remark[1], remark[2] + shift, remark[3] + shift])
    return "".join(pieces), sorted(new_remarks, key=lambda remark: remark[2])


def _valid_card(match: re.Match[str]) -> bool:
    digits = [int(c) for c in match.group() if c.isdigit()]
    if not 13 <= len(digits) <= 19 or not 2 <= digits[0] <= 6:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _valid_iban(match: re.Match[str]) -> bool:
    country, check, rest = match.group(1), match.group(2), match.group(3).replace(" ", "")
    if _IBAN_LENGTHS.get(country) != 4 + len(rest):
        return False
    # ISO 13616: move the first four characters to the end, letters to numbers (A=10), mod 97 == 1.
    rearranged = rest + country + check
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# Each shape with its rule, the group it replaces, a check of a match, and a cheap test a string
# must pass for the pattern to be worth running on it.
_SHAPES: list[
    tuple[re.Pattern[str], str, int, Callable[[re.Match[str]], bool] | None, Callable[[str], bool] | None]
] = [
    (_BEARER, BEARER_RULE, 1, None, lambda text: "earer" in text or "EARER" in text),
    (_IBAN, IBAN_RULE, 0, _valid_iban, None),
    (_CARD, CREDITCARD_RULE, 0, _valid_card, None),
    (_SSN, SSN_RULE, 0, None, lambda text: "-" in text),
]


# ------------------------------------------------------------------------ name=value strings


def _scrub_pairs(text: str, separator: str, verdict: Callable[[str], str]) -> tuple[str, list[Remark]] | None:
    """`a=1&password=x` → `a=1&password=[Filtered]`, with remarks; None when nothing changed."""
    pieces: list[str] = []
    remarks: list[Remark] = []
    length = 0
    changed = False
    for index, part in enumerate(text.split(separator)):
        if index:
            pieces.append(separator)
            length += 1
        name, equals, value = part.partition("=")
        rule = verdict(_unquote(name.strip())) if equals else ""
        if rule and rule is not _SAFE and value and value.strip() != FILTERED:
            start = length + len(name) + 1
            pieces.append(f"{name}={FILTERED}")
            remarks.append([rule, "s", start, start + len(FILTERED)])
            length = start + len(FILTERED)
            changed = True
        else:
            pieces.append(part)
            length += len(part)
    return ("".join(pieces), remarks) if changed else None


def _scrub_url(url: str, verdict: Callable[[str], str]) -> tuple[str, list[Remark]] | None:
    """The pairs of a URL's query and fragment (`#access_token=…` in OAuth's implicit flow)."""
    base, hash_mark, fragment = url.partition("#")
    head, question, query = base.partition("?")
    remarks: list[Remark] = []
    out = head + question
    for index, part in enumerate((query, fragment)):
        if index:
            out += hash_mark
        scrubbed = _scrub_pairs(part, "&", verdict) if "=" in part else None
        if scrubbed is None:
            out += part
            continue
        offset = len(out)
        remarks.extend([rule, kind, start + offset, end + offset] for rule, kind, start, end in scrubbed[1])
        out += scrubbed[0]
    return (out, remarks) if remarks else None


def _unquote(name: str) -> str:
    if "%" not in name and "+" not in name:
        return name
    from urllib.parse import unquote_plus

    return unquote_plus(name)


# ------------------------------------------------------------------------------- _meta


def _apply(event: dict[str, Any], changes: list[Change]) -> None:
    """Make the changes and record each in `_meta`, keeping what the SDK recorded there."""
    meta = event.get("_meta")
    if type(meta) is not dict:
        meta = event["_meta"] = {}
    nodes: dict[int, dict[str, Any]] = {}
    for container, key, link, value, remarks, length in changes:
        container[key] = value
        parent = _meta_node(meta, nodes, link[0])
        name = key if type(key) is str else str(key)
        node = parent.get(name)
        if type(node) is not dict:
            parent[name] = {"": {"rem": remarks, "len": length} if length is not None else {"rem": remarks}}
            continue
        entry = node.get("")
        if type(entry) is not dict:
            entry = node[""] = {}
        rem = entry.get("rem")
        entry["rem"] = [*rem, *remarks] if type(rem) is list else remarks
        if length is not None and "len" not in entry:
            entry["len"] = length


def _meta_node(meta: dict[str, Any], nodes: dict[int, dict[str, Any]], link: Link) -> dict[str, Any]:
    """`_meta`'s node for `link` (list indices as strings, as Sentry writes them), made if needed.
    Found again by the link's identity: the links are alive in the changes while this runs."""
    pending = []
    node = meta
    while link is not None:
        known = nodes.get(id(link))
        if known is not None:
            node = known
            break
        pending.append(link)
        link = link[0]
    for step in reversed(pending):
        key = step[1] if type(step[1]) is str else str(step[1])
        child = node.get(key)
        if type(child) is not dict:
            child = node[key] = {}
        nodes[id(step)] = node = child
    return node
