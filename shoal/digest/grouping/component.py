"""Grouping components: a tree of values, each part contributing to the hash or not, and why.

A variant's hash is the md5 of the contributing leaf values in tree order, UTF-8 encoded and simply
concatenated: no separators, no config id, no salt (grouping.md §7, verified there against Sentry's
own snapshots). A leaf counts only if every component on its way up contributes (§4.1).

Components are never changed once built: "this frame does not count here" is a copy with a hint
(`excluded`), so the app and system variants share one frame's components, and a frame seen in an
earlier event can be reused. Whether a component contributes is decided when it is built, from its
children, unless the builder says otherwise; a plain class with slots, because a digest builds
thousands of these a second.
"""

from __future__ import annotations

import hashlib
from typing import Union

Value = Union["Component", str, int]
# A component as a nested tuple that two equal trees share (see `Component.signature`).
Signature = tuple[object, ...]


class Component:
    __slots__ = ("_hash", "_text", "contributes", "hint", "id", "values")

    def __init__(
        self,
        id: str,
        values: tuple[Value, ...] = (),
        *,
        contributes: bool | None = None,
        hint: str | None = None,
    ) -> None:
        self.id = id
        self.values = values
        # By default a component contributes if it holds a primitive or a contributing child.
        self.contributes: bool = (
            any(not isinstance(v, Component) or v.contributes for v in values)
            if contributes is None
            else contributes
        )
        self.hint = hint
        self._text: str | None = None
        self._hash: str | None = None

    def leaves(self) -> list[str | int]:
        """The primitive values that reach the hash: only through contributing components."""
        found: list[str | int] = []
        if self.contributes:
            self._collect(found)
        return found

    def hash(self) -> str | None:
        """The md5 of the contributing leaves, or None when this component does not contribute."""
        if self._hash is None and self.contributes:
            self._hash = md5_of([self._leaf_text()])
        return self._hash

    def excluded(self, hint: str) -> Component:
        """A copy that does not contribute, saying why."""
        return Component(self.id, self.values, contributes=False, hint=hint)

    def has_contributing(self, component_id: str) -> bool:
        """Whether a descendant with that id contributes, reached through contributing components
        only. The component itself is not tested, as Sentry does not test a variant's top component
        (grouping.md §4.2, stack-trace dominance)."""
        return any(
            isinstance(child, Component)
            and child.contributes
            and (child.id == component_id or child.has_contributing(component_id))
            for child in self.values
        )

    def signature(self) -> Signature:
        """Everything that makes two trees alike: ids, values, hints and contribution, all of it,
        not only what reaches the hash (Sentry compares exception-group members by their whole
        component, grouping.md §4.4)."""
        return (
            self.id,
            self.contributes,
            self.hint,
            tuple(v.signature() if isinstance(v, Component) else v for v in self.values),
        )

    def _leaf_text(self) -> str:
        """The contributing leaves as one string, what the hash is taken of (see `md5_of`). Kept
        on each component, so that a frame reused from an earlier event, or shared by both
        variants, is walked once."""
        if self._text is None:
            parts = []
            for value in self.values:
                if not isinstance(value, Component):
                    parts.append(str(value))
                elif value.contributes:
                    parts.append(value._leaf_text())
            self._text = "".join(parts)
        return self._text

    def _collect(self, found: list[str | int]) -> None:
        for value in self.values:
            if not isinstance(value, Component):
                found.append(value)
            elif value.contributes:
                value._collect(found)

    def __repr__(self) -> str:
        state = "" if self.contributes else f" (not contributing: {self.hint})"
        return f"Component({self.id!r}, {list(self.values)!r}){state}"


def md5_of(values: list[str | int]) -> str:
    """Sentry's hash of a list of values: integers as their decimal text, text as UTF-8 (an unpaired
    surrogate, which JSON can carry, becomes "?" rather than an error)."""
    return hashlib.md5("".join(map(str, values)).encode("utf-8", "replace")).hexdigest()
