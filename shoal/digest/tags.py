"""The tags an event is counted under: the SDK's own, plus those derived from its fields.

Derived tags follow Sentry's (level, environment, release, user, url, handled, mechanism, runtime,
os, browser, …) so tag breakdowns and searches look familiar. When the SDK sent a tag with the same
key, the SDK's value wins: the team we build for tags critical errors with `set_tag("level",
"critical")` and alerts on `level:critical` (reference/seed-chapter.txt), which only works if that
tag survives.
"""

from __future__ import annotations

from typing import Any

# Relay's limits for tag values: 200 characters and no newline (protocol.md §4).
_MAX_VALUE_CHARS = 200


def event_tags(event: dict[str, Any]) -> list[tuple[str, str]]:
    tags = dict(_derived_tags(event))
    for key, value in event.get("tags") or ():
        tags[key] = value
    return list(tags.items())


def user_tag_value(user: object) -> str | None:
    """Sentry's user identifier: the first of id, username, email, ip address, with its kind."""
    if not isinstance(user, dict):
        return None
    for field, prefix in (("id", "id"), ("username", "username"), ("email", "email"), ("ip_address", "ip")):
        value = user.get(field)
        if value not in (None, ""):
            return _clean(f"{prefix}:{value}")
    return None


def _derived_tags(event: dict[str, Any]) -> list[tuple[str, str]]:
    candidates: list[tuple[str, object]] = [
        ("level", event.get("level")),
        ("logger", event.get("logger")),
        ("server_name", event.get("server_name")),
        ("environment", event.get("environment")),
        ("release", event.get("release")),
        ("dist", event.get("dist")),
        ("transaction", event.get("transaction")),
        ("url", _url(event)),
        ("user", user_tag_value(event.get("user"))),
        *_mechanism_tags(event),
        *_context_tags(event.get("contexts")),
    ]
    return [(key, _clean(str(value))) for key, value in candidates if value not in (None, "")]


def _url(event: dict[str, Any]) -> str | None:
    request = event.get("request")
    url = request.get("url") if isinstance(request, dict) else None
    return url.split("?", 1)[0] if isinstance(url, str) else None


def _mechanism_tags(event: dict[str, Any]) -> list[tuple[str, object]]:
    values = (event.get("exception") or {}).get("values") or []
    mechanism = values[-1].get("mechanism") if values else None
    if not isinstance(mechanism, dict):
        return []
    tags: list[tuple[str, object]] = [("mechanism", mechanism.get("type"))]
    if isinstance(mechanism.get("handled"), bool):
        tags.append(("handled", "yes" if mechanism["handled"] else "no"))
    return tags


def _context_tags(contexts: object) -> list[tuple[str, object]]:
    if not isinstance(contexts, dict):
        return []
    tags: list[tuple[str, object]] = []
    for name in ("runtime", "browser", "os"):
        context = contexts.get(name)
        if isinstance(context, dict) and context.get("name"):
            tags.append((f"{name}.name", context["name"]))
            if name != "os" and context.get("version"):
                tags.append((name, f"{context['name']} {context['version']}"))
    device = contexts.get("device")
    if isinstance(device, dict):
        tags.append(("device", device.get("model")))
    return tags


def _clean(value: str) -> str:
    return value.replace("\n", " ")[:_MAX_VALUE_CHARS]
