"""Grouping components: a tree of values, each part contributing to the hash or not, and why.

A variant's hash is the md5 of the contributing leaf values in tree order, UTF-8 encoded and simply
concatenated: no separators, no config id, no salt (grouping.md §7, verified there against Sentry's
own snapshots).

Components are never changed once built: "this frame does not count here" is a copy with a hint
(`excluded`), so the app and system variants share one frame's components, and whether a component
contributes, and its hash, are computed once. A plain class with slots rather than a frozen
dataclass: a digest builds thousands of these a second, and the dataclass machinery made building
one three times slower (measured on the corpus).
"""

from __future__ import annotations

import hashlib
from typing import Union

Value = Union["Component", str, int]


class Component:
    __slots__ = ("_contributes", "_hash", "contributes_override", "hint", "id", "values")

    def __init__(
        self,
        id: str,
        values: tuple[Value, ...] = (),
        contributes_override: bool | None = None,
        hint: str | None = None,
    ) -> None:
        self.id = id
        self.values = values
        # None: decided by the values (contributes iff there is a primitive or a contributing child).
        self.contributes_override = contributes_override
        self.hint = hint
        self._contributes: bool | None = None
        self._hash: str | None = None

    @property
    def contributes(self) -> bool:
        if self._contributes is None:
            if self.contributes_override is not None:
                self._contributes = self.contributes_override
            else:
                self._contributes = any(not isinstance(v, Component) or v.contributes for v in self.values)
        return self._contributes

    def leaves(self) -> list[str | int]:
        """The primitive values that reach the hash: only through contributing components."""
        found: list[str | int] = []
        if self.contributes:
            self._collect(found)
        return found

    def hash(self) -> str | None:
        if self._hash is None and self.contributes:
            self._hash = md5_of(self.leaves())
        return self._hash

    def excluded(self, hint: str) -> Component:
        """A copy that does not contribute, saying why."""
        return Component(self.id, self.values, False, hint)

    def has_contributing(self, component_id: str) -> bool:
        """Whether a component of that id contributes *through* this tree."""
        if not self.contributes:
            return False
        if self.id == component_id:
            return True
        return any(isinstance(v, Component) and v.has_contributing(component_id) for v in self.values)

    def _collect(self, found: list[str | int]) -> None:
        for value in self.values:
            if not isinstance(value, Component):
                found.append(value)
            elif value.contributes:
                value._collect(found)

    def __repr__(self) -> str:
        state = "" if self.contributes else f" (not contributing: {self.hint})"
        return f"Component({self.id!r}, {list(self.values)!r}){state}"


def md5_of(values: list[str | int] | list[str]) -> str:
    return hashlib.md5("".join(map(str, values)).encode("utf-8", "replace")).hexdigest()
