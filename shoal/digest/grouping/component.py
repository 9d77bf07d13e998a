"""Grouping components: a tree of values, each part contributing to the hash or not, and why.

A variant's hash is the md5 of the contributing leaf values in tree order, UTF-8 encoded and simply
concatenated: no separators, no config id, no salt (grouping.md §7, verified there against Sentry's
own snapshots).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

Value = Union["Component", str, int]


@dataclass
class Component:
    id: str
    values: list[Value] = field(default_factory=list)
    # None: decided by the values (contributes iff there is a primitive or a contributing child).
    contributes_override: bool | None = None
    hint: str | None = None

    @property
    def contributes(self) -> bool:
        if self.contributes_override is not None:
            return self.contributes_override
        return any(not isinstance(v, Component) or v.contributes for v in self.values)

    def exclude(self, hint: str) -> None:
        """Mark this component as not contributing, saying why."""
        self.contributes_override = False
        self.hint = hint

    def leaves(self) -> Iterator[str | int]:
        """The primitive values that reach the hash: only through contributing components."""
        if not self.contributes:
            return
        for value in self.values:
            if isinstance(value, Component):
                yield from value.leaves()
            else:
                yield value

    def hash(self) -> str | None:
        if not self.contributes:
            return None
        return md5_of(self.leaves())

    def find(self, component_id: str) -> Iterator[Component]:
        """This component and its descendants with the given id, depth first."""
        if self.id == component_id:
            yield self
        for value in self.values:
            if isinstance(value, Component):
                yield from value.find(component_id)

    def has_contributing(self, component_id: str) -> bool:
        """Whether a component of that id contributes *through* this tree."""
        if not self.contributes:
            return False
        if self.id == component_id:
            return True
        return any(isinstance(v, Component) and v.has_contributing(component_id) for v in self.values)


def md5_of(values: Iterator[str | int] | list[str]) -> str:
    digest = hashlib.md5()
    for value in values:
        digest.update(str(value).encode("utf-8", "replace"))
    return digest.hexdigest()
