"""The one table of outcomes: what became of every item an SDK sent, as (category, outcome, reason).

Nothing Shoal accepts disappears without a row here. The digest counts each item it stores or drops
(`outcome_counter`, per project and hour); SDK client reports add what the SDK itself discarded.
Categories are Sentry's rate-limit data categories (protocol.md §5), so counts line up with what an
SDK reports and what quotas will count.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    ERROR = "error"
    DEFAULT = "default"
    TRANSACTION = "transaction"
    SPAN = "span"
    SECURITY = "security"
    ATTACHMENT = "attachment"
    SESSION = "session"
    MONITOR = "monitor"
    LOG_ITEM = "log_item"
    PROFILE = "profile"
    REPLAY = "replay"
    FEEDBACK = "feedback"
    INTERNAL = "internal"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    FILTERED = "filtered"
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"
    CLIENT_DISCARD = "client_discard"


# Reasons for INVALID: the item reached the digest but could not be made into anything.
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_an_object"
PROCESSING_ERROR = "processing_error"  # a Shoal bug; the envelope is kept in the spool's dead letters
# Reason for FILTERED: an item type Shoal accepts on the wire but does not store yet.
UNSUPPORTED_ITEM = "unsupported_item"

# Envelope item type → category, as sentry-python maps them (protocol.md §5): events count as
# "error" (messages included), and any type not listed counts as "default".
_ITEM_CATEGORIES = {
    "event": Category.ERROR,
    "transaction": Category.TRANSACTION,
    "span": Category.SPAN,
    "attachment": Category.ATTACHMENT,
    "session": Category.SESSION,
    "sessions": Category.SESSION,
    "check_in": Category.MONITOR,
    "log": Category.LOG_ITEM,
    "profile": Category.PROFILE,
    "replay_event": Category.REPLAY,
    "replay_recording": Category.REPLAY,
    "feedback": Category.FEEDBACK,
    "client_report": Category.INTERNAL,
    "security": Category.SECURITY,
}


def category_of_item(item_type: str) -> Category:
    return _ITEM_CATEGORIES.get(item_type, Category.DEFAULT)


@dataclass(frozen=True, slots=True)
class OutcomeKey:
    project_id: int
    category: str
    outcome: Outcome
    reason: str
    key_id: int = 0  # the DSN key the item came with; 0 where it is not known
