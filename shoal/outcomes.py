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
# A request from a known key that ingest refused with 400 (malformed body, envelope or event);
# one refused with 413 is TOO_LARGE (below). Counted per request, as category error.
INVALID_REQUEST = "invalid_request"
# An event id the project already stored: only the first is kept, as Sentry does ("Duplicate").
DUPLICATE = "duplicate"
# Reason for FILTERED: an item type Shoal accepts on the wire but does not store yet.
UNSUPPORTED_ITEM = "unsupported_item"
# Reasons for FILTERED by a project's inbound filters (shoal/digest/filters/, docs/filters.md):
# Sentry's stat keys where Sentry has the filter, Shoal's own names for the rest.
FILTER_ERROR_TYPE = "error-type"
FILTER_ERROR_MESSAGE = "error-message"
FILTER_RELEASE = "release-version"
FILTER_ENVIRONMENT = "environment"
FILTER_IP_ADDRESS = "ip-address"
FILTER_LOCALHOST = "localhost"
FILTER_BROWSER_EXTENSIONS = "browser-extensions"
FILTER_LEGACY_BROWSERS = "legacy-browsers"
FILTER_WEB_CRAWLERS = "web-crawlers"
FILTER_HEALTH_CHECK = "health-check"
FILTER_HTTP_404 = "http-404"
# "Delete and discard": the event's first known hash is tombstoned (shoal/store/discards.py).
DISCARDED_HASH = "discarded-hash"
# Attachments and feedback (docs/attachments.md, docs/feedback.md): INVALID too_large (Relay's
# name) for an attachment over SHOAL_MAX_ATTACHMENT_BYTES, missing_event_id for an item that names
# no event, no_feedback_context for a feedback item without contexts.feedback; FILTERED
# event_not_stored for an attachment whose event was not stored (filtered, discarded, invalid or
# never sent).
TOO_LARGE = "too_large"
MISSING_EVENT_ID = "missing_event_id"
NO_FEEDBACK_CONTEXT = "no_feedback_context"
EVENT_NOT_STORED = "event_not_stored"
# Reasons for RATE_LIMITED, decided at ingest (shoal/ingest/limits.py, docs/quotas.md); also the
# reason codes of X-Sentry-Rate-Limits.
KEY_QUOTA = "key_quota"
PROJECT_QUOTA = "project_quota"
ORG_QUOTA = "org_quota"
SPIKE_PROTECTION = "spike_protection"

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
