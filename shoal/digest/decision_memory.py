"""What a digest worker remembers of the decision log: the last verdict it logged for each (rule,
issue), so that the same verdict again is not logged again.

Most evaluations repeat the one before: "not a new issue", "throttled: last sent 3 min ago" for
every batch of a busy issue. Measured on the corpus with 20 rules (bench/alert_rules.py), 68 % of
the rows were exact repeats, and writing them was a third of what the rules cost. The log keeps
every change of verdict and every firing; a repeat adds nothing a reader needs. The memory is
per process and bounded, so after a restart, or on another worker, a repeat is logged once more:
harmless. It learns only what was committed, so a batch that is rolled back and stored again (a
lost race) logs its decisions in full.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from shoal.store.alert_state import Decision

CAPACITY = 100_000  # (rule, issue) pairs: ~15 MB at most


class DecisionMemory:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._last: OrderedDict[tuple[int, int], tuple[bool, str]] = OrderedDict()

    def is_repeat(self, decision: Decision) -> bool:
        """The same verdict as the one last logged for its rule and issue; a firing never is."""
        key = (decision.rule_id, decision.issue_id)
        return not decision.fired and self._last.get(key) == (False, decision.reason)

    def remember(self, decisions: Iterable[Decision]) -> None:
        for decision in decisions:
            key = (decision.rule_id, decision.issue_id)
            self._last[key] = (decision.fired, decision.reason)
            self._last.move_to_end(key)
        while len(self._last) > self._capacity:
            self._last.popitem(last=False)
