"""Make messages and exception values comparable: keep two lines, then replace the parts that vary
(ids, numbers, addresses, dates…) by placeholders such as <int> (grouping.md §6).

All patterns are alternatives of one regular expression, tried in a fixed order at each position:
the first that matches wins. The order and what each pattern accepts follow Sentry's list, so
"Order 12345 failed" becomes "Order <int> failed" here exactly as there; the patterns themselves
are written here.

Like Sentry's, some patterns take quadratic time on long runs without spaces (the email's local
part, a duration's digits, a hostname's labels): measured here, 8,192 digits take 1.5 s and
".x" × 4,096 take 2.7 s. Normalization caps strings at 8,192 characters, so that is the worst
case a hostile client can cause per message; nothing here bounds it further.
"""

from __future__ import annotations

import re

_DAY = r"(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat)"
_LONG_DAY = r"(?:Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sun|Mon|Tue|Wed|Thu|Fri|Sat)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_ZONE = r"(?:UT|GMT|[ECMP][SD]T|[A-IK-Z])"
_OCTET = r"(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])"
_IPV4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_H = r"[0-9a-fA-F]{1,4}"
_EMAIL_LOCAL_PART = r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]"
_TLDS = (
    "com|net|org|jp|de|uk|fr|br|it|ru|es|me|gov|pl|ca|au|cn|co|in|nl|edu|info|eu|ch|id|at|kr|cz|mx|be|tv|"
    "se|tr|tw|al|ua|ir|vn|cl|sk|ly|cc|to|no|fi|us|pt|dk|ar|hu|tk|gr|il|news|ro|my|biz|ie|za|nz|sg|ee|th|io|"
    "xyz|pe|bg|hk|rs|lt|link|ph|club|si|site|mobi|by|cat|wiki|la|ga|xxx|cf|hr|ng|jobs|online|kz|ug|gq|ae|"
    "is|lv|pro|fm|tips|ms|sa|app"
)

_DATES = [
    # RFC 822 / 1123: "Mon, 2 Jan 2006 15:04:05 -0700"
    rf"{_DAY},\s\d{{1,2}}\s{_MONTH}\s\d{{2,4}}\s\d{{1,2}}:\d{{1,2}}(?::\d{{1,2}})?\s(?:[-+]\d{{2}}[0-5]\d|{_ZONE})",
    # "Mon Jan 02, 1999", "Jan 02, 1999"
    rf"(?:{_DAY}\s)?{_MONTH}\s[0-3]\d,\s\d{{2,4}}",
    # RFC 850: "Monday, 02-Jan-06 15:04:05 MST"
    rf"{_LONG_DAY},\s\d{{2}}-{_MONTH}-\d{{2}}\s\d{{2}}:\d{{2}}:\d{{2}}\s{_ZONE}",
    # RFC 3339, with or without fraction and offset
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?(?:[+-]?\d{2}:\d{2})?",
    # JavaScript's Date.toString()
    rf"{_DAY}\s{_MONTH}\s\d{{2}}\s\d{{4}}\s\d{{2}}:\d{{2}}:\d{{2}}\sGMT[+-]\d{{4}}(?:\s\([^)]+\))?",
    # ISO-like date and time with an offset or Z, before the plain form so that the offset is taken
    # with it rather than left as a number
    r"\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d(?::?[0-5]\d(?:\.\d+)?)?(?:[+-][0-2]\d:?[0-5]\d|Z)",
    # ISO-like date and time
    r"\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d(?::?[0-5]\d(?:\.\d+)?)?",
    # 12-hour clock: "3:04", "3:04:05 PM"
    r"(?<!\d)(?:[1-9]|1[0-2]):[0-5]\d(?::[0-5]\d)?(?![\d:])(?:\s?[aApP][mM])?",
    # 24-hour clock: "15:04", "07:04:05"
    r"(?<!\d)(?:0?\d|1\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])",
    r"\d{4}-[01]\d-[0-3]\d",
    r"[0-2]\d:[0-5]\d:[0-5]\d",
    # syslog-style: "Mon Jan  2 15:04:05 2006", "02 Jan 2006 15:04 -0700"
    rf"\b(?:{_DAY}\s+)?{_MONTH}\s+\d{{1,2}}\s+\d{{2}}:\d{{2}}:\d{{2}}\s+\d{{4}}",
    rf"\b(?:{_DAY},\s+)?(?:0[1-9]|[1-2]?\d|3[01])\s+{_MONTH}\s+(?:19\d{{2}}|[2-9]\d{{3}})\s+"
    rf"(?:2[0-3]|[0-1]\d):[0-5]\d(?::(?:60|[0-5]\d))?\s+(?:[-+]\d{{2}}[0-5]\d|{_ZONE})",
    # Python's repr of a datetime. The dot is any character, as in Sentry's pattern, so that both
    # give the same result on the odd "datetime_datetime(".
    r"datetime.datetime\(.*?\)",
]

# (name, pattern), in the order they are tried; the name becomes the placeholder.
_PATTERNS: list[tuple[str, str]] = [
    ("email", rf"{_EMAIL_LOCAL_PART}+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*"),
    ("url", r"\b(?:wss?|https?|ftp)://[^\s/$.?#].\S*"),
    # A dotted name ending in one of the ~100 most common top-level domains, all in one case.
    ("hostname", rf"\b(?:[a-zA-Z0-9\-]{{1,63}}\.)+?(?:(?:{_TLDS.upper()})|(?:{_TLDS}))\b"),
    (
        "ip",
        # IPv6 in its full and abbreviated forms, kept from matching inside `Class::method()` by
        # requiring no letter or digit on either side; then plain IPv4.
        rf"(?<![0-9a-zA-Z_])(?:"
        rf"(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}|"
        rf"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}|"
        rf"{_H}:(?::{_H}){{1,6}}|:(?:(?::{_H}){{1,7}}|:)|fe80:(?::[0-9a-fA-F]{{0,4}}){{0,4}}%[0-9a-zA-Z]+|"
        rf"::(?:ffff(?::0{{1,4}})?:)?{_IPV4}|(?:{_H}:){{1,4}}:{_IPV4}\b"
        rf")(?![0-9a-zA-Z])|\b{_IPV4}\b",
    ),
    # W3C traceparent header, AWS X-Ray trace id
    ("traceparent", r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]\b|\b1-[0-9a-f]{8}-[0-9a-f]{24}\b"),
    ("uuid", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("sha1", r"\b[0-9a-fA-F]{40}\b"),
    ("md5", r"\b[0-9a-fA-F]{32}\b"),
    ("date", "|".join(_DATES)),
    ("duration", r"\b\d+ms|\d+(?:\.\d+)?s\b"),
    # OpenStack Swift transaction ids
    ("swift_txn_id", r"\btx[0-9a-f]{21}-[0-9a-f]{10}\S*"),
    # 0x-prefixed of any length; else 8-128 hex digits of one case with at least one digit (all
    # digits would have been an <int> or a longer number; all letters is probably a word).
    ("hex", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[a-f]*[0-9])[0-9a-f]{8,128}\b|\b(?=[A-F]*[0-9])[0-9A-F]{8,128}\b"),
    # Seven lowercase hex digits with a digit and a letter: an abbreviated git sha.
    ("git_sha", r"\b(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{7}\b"),
    ("float", r"-\d+\.\d+\b|\b\d+\.\d+\b"),
    # Up to seven digits (longer ones are hex above); a minus only when it does not join two words.
    ("int", r"(?:\b|(?<!\w)-)\d{1,7}\b"),
    # Only the value side of key=value pairs.
    ("quoted_str", r"""(?<==)(?:'[^']+'|"[^"]+")"""),
    ("bool", r"(?<==)(?:True|true|False|false)"),
]

# Python's regex engine tries every alternative at every position of the text, and most positions
# (inside ordinary words, spaces) can start no match at all. This lookahead lists the ways a match
# can start, so such positions fail after one cheap test: 3x faster on the corpus's messages,
# with the same result (a position the guard rejects is one where no alternative matches; a
# randomized comparison in the tests checks this). By alternative, a match starts with:
_CAN_START_A_MATCH = "|".join(
    [
        # a digit (numbers, dates, ips, hashes), ":" (IPv6), "-" (negative numbers, hostnames) or a
        # quote (quoted_str);
        r"""[0-9:'"\-]""",
        # a day or month name (dates that need no word boundary);
        rf"{_DAY}|{_MONTH}|datetime",
        # a hex letter not preceded by a letter or digit (ip, uuid, sha1, md5, hex, git_sha);
        r"(?<![0-9a-zA-Z_])[a-fA-F]",
        # the first label of a hostname, a URL scheme, "tx" (swift), a boolean after "=";
        r"\b[a-zA-Z0-9\-]{1,63}\.|\b(?:wss?|https?|ftp)://|\btx|(?<==)[TtFf]",
        # or the local part of an email address.
        rf"{_EMAIL_LOCAL_PART}+@",
    ]
)

_COMBINED = re.compile(
    f"(?=(?:{_CAN_START_A_MATCH}))(?:"
    + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS)
    + ")"
)


def parameterize(text: str) -> str:
    """Replace every varying part of `text` by <name>, e.g. "took 12ms" → "took <duration>"."""
    return _COMBINED.sub(_placeholder, text)


def _placeholder(match: re.Match[str]) -> str:
    # Every capturing group is a named pattern and none nests another, so the group that matched
    # is the last one.
    return f"<{match.lastgroup}>"


def trim_message(text: str) -> str:
    """The first two non-blank lines, with "..." appended when anything was cut (grouping.md §6).
    Lines are kept as they are, leading spaces included."""
    kept = [line for line in text.splitlines() if line.strip()][:2]
    trimmed = "\n".join(kept)
    return trimmed if trimmed == text else trimmed + "..."


def normalize_message(text: str) -> str:
    """What a message or exception value contributes: trimmed, then parameterized."""
    return parameterize(trim_message(text))
