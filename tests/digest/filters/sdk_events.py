"""Events as the real sentry-sdk makes them, captured in this process: `before_send` keeps each
event the SDK prepared (serialized, with its frames and variables) and drops it, so nothing is sent
anywhere. The filters are then tested on exactly what a Python SDK sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

Event = dict[str, Any]


class _Nowhere(Transport):
    """Sends nothing: what the SDK sends besides events (client reports) has nowhere to go."""

    def capture_envelope(self, envelope: Envelope) -> None:
        return None


@contextmanager
def sdk_capturing() -> Iterator[list[Event]]:
    captured: list[Event] = []

    def keep(event: Any, _hint: dict[str, Any]) -> None:
        captured.append(event)

    sentry_sdk.init(
        dsn="https://public@sdk.invalid/1", before_send=keep, transport=_Nowhere, default_integrations=False
    )
    try:
        yield captured
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()


def event_of(raise_it: Callable[[], None]) -> Event:
    """The event the SDK makes of the exception `raise_it` raises, captured as an app would."""
    with sdk_capturing() as captured:
        try:
            raise_it()
        except Exception:
            sentry_sdk.capture_exception()
    (event,) = captured
    return event
