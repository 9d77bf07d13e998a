"""Fingerprints (grouping.md §9): the SDK's `fingerprint`, or the one a fingerprint rule sets, and
what it does to the variants.

- default (`["{{ default }}"]`, or none sent): the variants stay as the strategies made them;
- custom (no `{{ default }}`): one fingerprint variant hashed from the resolved entries, and every
  component variant marked as not contributing;
- hybrid (`{{ default }}` and more): each contributing component variant is hashed from the
  entries with `{{ default }}` replaced, in place, by that variant's contributing values.

Variables are whole entries, `{{ type }}`, `{{ tags.shard }}`, …, each with a fallback when the
event lacks what it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shoal.digest.grouping.component import md5_of
from shoal.digest.grouping.configs import GroupingConfig
from shoal.digest.grouping.event_access import crash_frame, messages, tag_value
from shoal.digest.grouping.fingerprint_rules import MatchedRule, normalized_entry
from shoal.digest.grouping.parameterize import parameterize
from shoal.digest.grouping.strategies import Variant
from shoal.eventdata import as_dict, text, values_of

DEFAULT = "{{ default }}"
_VARIABLE = re.compile(r"\{\{\s*(\S+?)\s*\}\}")


@dataclass(frozen=True)
class Fingerprint:
    entries: tuple[str, ...]  # variables unresolved, `{{ default }}` normalized
    source: str  # "client", "server" or "built_in"

    @property
    def kind(self) -> str:
        if DEFAULT not in self.entries:
            return "custom"
        return "default" if self.entries == (DEFAULT,) else "hybrid"


def event_fingerprint(event: Mapping[str, Any], matched: MatchedRule | None) -> Fingerprint:
    """A matched rule's fingerprint wins over the client's (§10.2)."""
    if matched is not None:
        return Fingerprint(matched.fingerprint, "built_in" if matched.is_builtin else "server")
    return Fingerprint(client_fingerprint(event), "client")


def client_fingerprint(event: Mapping[str, Any]) -> tuple[str, ...]:
    """The SDK's fingerprint; the one it sent before a rule replaced it, on a regroup."""
    info = as_dict(event.get("_fingerprint_info"))
    sent = info["client_fingerprint"] if "client_fingerprint" in info else event.get("fingerprint")
    entries = tuple(
        normalized_entry(str(entry)) for entry in sent or () if isinstance(entry, str | int | float)
    )
    return entries or (DEFAULT,)


def apply_fingerprint(
    variants: dict[str, Variant], fingerprint: Fingerprint, event: Mapping[str, Any], config: GroupingConfig
) -> dict[str, Variant]:
    if fingerprint.kind == "default":
        return variants
    values = tuple(
        entry if entry == DEFAULT else resolve_entry(entry, event, config) for entry in fingerprint.entries
    )
    if fingerprint.kind == "custom":
        return _custom(variants, fingerprint.source, values)
    return {name: _salted(variant, values) for name, variant in variants.items()}


def _custom(variants: dict[str, Variant], source: str, values: tuple[str, ...]) -> dict[str, Variant]:
    name = {"client": "custom_client", "server": "custom_server", "built_in": "built_in"}[source]
    hint = f"{name.replace('_', ' ').replace('built in', 'built-in')} fingerprint takes precedence"
    overridden = {
        key: Variant(v.name, v.kind, None, v.root.excluded(hint) if v.root else None)
        for key, v in variants.items()
    }
    variant = Variant(f"{name}_fingerprint", f"{name}_fingerprint", md5_of(list(values)), values=values)
    return {**overridden, variant.name: variant}


def _salted(variant: Variant, values: tuple[str, ...]) -> Variant:
    if variant.hash is None or variant.root is None:
        return variant
    leaves = [str(leaf) for leaf in variant.root.leaves()]
    expanded = [part for entry in values for part in (leaves if entry == DEFAULT else [entry])]
    return Variant(variant.name, "salted_component", md5_of(list(expanded)), variant.root, values)


def resolve_entry(entry: str, event: Mapping[str, Any], config: GroupingConfig) -> str:
    """A fingerprint entry with its variable resolved (§9's table), or the literal entry."""
    variable = _VARIABLE.fullmatch(entry)
    if variable is None:
        # 2026 parameterizes a literal entry that is one of the event's messages (§9, last lines).
        if config.parameterize_message_entries and entry in messages(event):
            return parameterize(entry)
        return entry
    return resolve_variable(variable.group(1), event, config)


def resolve_variable(name: str, event: Mapping[str, Any], config: GroupingConfig) -> str:
    key = name.lower()
    if key.startswith("tags."):
        return tag_value(event, name[5:]) or f"<no-value-for-tag-{name[5:]}>"
    resolver = _VARIABLES.get(key)
    if resolver is not None:
        fallback, read = resolver
        return read(event) or f"<no-{fallback}>"
    if config.legacy_unknown_fingerprint_variables:
        return f"{{{{ {name} }}}}"
    return f"<unrecognized-variable-{name}>"


def _last_exception(event: Mapping[str, Any]) -> dict[str, Any]:
    exceptions = values_of(event.get("exception"))
    return exceptions[-1] if exceptions else {}


def _message(event: Mapping[str, Any]) -> str | None:
    entry = as_dict(event.get("logentry"))
    found = text(entry.get("formatted")) or text(entry.get("message")) or text(event.get("message"))
    return found or text(_last_exception(event).get("value"))


def _frame_field(*fields: str) -> Any:
    def read(event: Mapping[str, Any]) -> str | None:
        frame = crash_frame(event) or {}
        return next((value for f in fields if (value := text(frame.get(f)))), None)

    return read


def _package(event: Mapping[str, Any]) -> str | None:
    package = _frame_field("package")(event)
    return package.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] if package else None


def _parameterized_message(event: Mapping[str, Any]) -> str | None:
    message = _message(event)
    return parameterize(message) if message else None


# variable → (the fallback's name, how to read it)
_VARIABLES: dict[str, tuple[str, Any]] = {
    "transaction": ("transaction", lambda e: text(e.get("transaction"))),
    "message": ("message", _parameterized_message),
    "raw_message": ("message", _message),
    "type": ("type", lambda e: text(_last_exception(e).get("type"))),
    "error.type": ("type", lambda e: text(_last_exception(e).get("type"))),
    "value": ("value", lambda e: text(_last_exception(e).get("value"))),
    "raw_value": ("value", lambda e: text(_last_exception(e).get("value"))),
    "error.value": ("value", lambda e: text(_last_exception(e).get("value"))),
    "error.raw_value": ("value", lambda e: text(_last_exception(e).get("value"))),
    "function": ("function", _frame_field("function")),
    "stack.function": ("function", _frame_field("function")),
    "path": ("abs-path", _frame_field("abs_path", "filename")),
    "stack.abs_path": ("abs-path", _frame_field("abs_path", "filename")),
    "stack.filename": ("filename", _frame_field("filename", "abs_path")),
    "module": ("module", _frame_field("module")),
    "stack.module": ("module", _frame_field("module")),
    "package": ("package", _package),
    "stack.package": ("package", _package),
    "level": ("level", lambda e: text(e.get("level"))),
    "logger": ("logger", lambda e: text(e.get("logger"))),
}


def resolve_title(title: str, event: Mapping[str, Any], config: GroupingConfig) -> str:
    """A rule's `title="…"`: variables anywhere in it, `{{ message }}` left raw (§9, last line)."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        return (
            _message(event) or "<no-message>" if name == "message" else resolve_variable(name, event, config)
        )

    return _VARIABLE.sub(value, title)
