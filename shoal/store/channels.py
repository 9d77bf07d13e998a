"""Notification channels of an organization: an email list, a Slack or generic webhook, an
apprise URL. A permanent delivery error disables a channel and keeps the reason to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, select, update

from shoal.store.schema import channel


@dataclass(frozen=True)
class ChannelRow:
    id: int
    organization_id: int
    name: str
    kind: str
    config: dict[str, Any]
    enabled: bool
    disabled_reason: str | None


def insert_channel(
    conn: Connection, organization_id: int, name: str, kind: str, *, config: dict[str, Any], now: float
) -> int:
    result = conn.execute(
        insert(channel)
        .values(
            organization_id=organization_id,
            name=name,
            kind=kind,
            config=orjson.dumps(config).decode(),
            enabled=True,
            created_at=now,
        )
        .returning(channel.c.id)
    )
    return int(result.scalar_one())


def update_channel(conn: Connection, channel_id: int, name: str, config: dict[str, Any]) -> None:
    """Save a changed configuration; saving also enables it again (the owner fixed it)."""
    conn.execute(
        update(channel)
        .where(channel.c.id == channel_id)
        .values(name=name, config=orjson.dumps(config).decode(), enabled=True, disabled_reason=None)
    )


def delete_channel(conn: Connection, channel_id: int) -> None:
    conn.execute(delete(channel).where(channel.c.id == channel_id))


def disable_channel(conn: Connection, channel_id: int, reason: str) -> None:
    conn.execute(
        update(channel).where(channel.c.id == channel_id).values(enabled=False, disabled_reason=reason)
    )


def get_channel(conn: Connection, channel_id: int) -> ChannelRow | None:
    row = conn.execute(select(channel).where(channel.c.id == channel_id)).first()
    return _channel(row) if row else None


def organization_channels(conn: Connection, organization_id: int) -> list[ChannelRow]:
    rows = conn.execute(
        select(channel).where(channel.c.organization_id == organization_id).order_by(channel.c.name)
    )
    return [_channel(row) for row in rows]


def channel_by_name(conn: Connection, organization_id: int, name: str) -> ChannelRow | None:
    row = conn.execute(
        select(channel).where(channel.c.organization_id == organization_id, channel.c.name == name)
    ).first()
    return _channel(row) if row else None


def _channel(row: Row[Any]) -> ChannelRow:
    return ChannelRow(
        row.id,
        row.organization_id,
        row.name,
        row.kind,
        orjson.loads(row.config),
        row.enabled,
        row.disabled_reason,
    )
