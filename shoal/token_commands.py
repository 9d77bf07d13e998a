"""`shoal token …`: make, list and revoke API bearer tokens (docs/api.md).

`create` prints the token alone on stdout, so that `TOKEN=$(shoal token create)` works; the token is
shown only then, since the store keeps just its hash.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import click

from shoal.cli import command_config, command_engine


@click.group()
def token() -> None:
    """Make, list and revoke API tokens."""


@token.command("create")
@click.option("--user", "email", help="Whose token [default: the first superuser].")
@click.option("--org", "org_slug", help="Make an organization token (sntrys_…) that only acts in this org.")
@click.option("--scopes", help='Space-separated Sentry scopes, e.g. "project:read alerts:write".')
@click.option("--label", default="", help="What the token is for, shown by `shoal token list`.")
def create(email: str | None, org_slug: str | None, scopes: str | None, label: str) -> None:
    """Make a token and print it (only it, on stdout)."""
    from shoal.store import tokens
    from shoal.store.db import write_transaction

    config = command_config()
    wanted = re.split(r"[\s,]+", scopes.strip()) if scopes and scopes.strip() else tokens.DEFAULT_SCOPES
    try:
        with write_transaction(command_engine(config)) as conn:
            user = _user(conn, email)
            now = time.time()
            if org_slug is None:
                made = tokens.create_personal_token(conn, user.id, wanted, label, now)
            else:
                organization_id = _organization(conn, user, org_slug)
                made = tokens.create_organization_token(
                    conn,
                    user.id,
                    organization_id,
                    public_url=config.public_url,
                    scopes=wanted,
                    label=label,
                    now=now,
                )
    except tokens.UnknownScope as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(made)


def _user(conn: Any, email: str | None) -> Any:
    from shoal.store.tokens import token_user

    user = token_user(conn, email)
    if user is None:
        raise click.ClickException(
            f"no user {email!r}" if email else "no superuser yet: run `shoal run` once"
        )
    return user


def _organization(conn: Any, user: Any, org_slug: str) -> int:
    from shoal.store.tokens import user_organization

    organization_id = user_organization(conn, user, org_slug)
    if organization_id is None:
        raise click.ClickException(f"{user.email} is not a member of an organization {org_slug!r}")
    return organization_id


@token.command("list")
@click.option("--user", "email", help="Only this user's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_command(email: str | None, as_json: bool) -> None:
    """List tokens (not their secrets: only hashes are kept)."""
    from shoal.clock import iso_utc
    from shoal.store.tokens import list_tokens

    with command_engine(command_config()).connect() as conn:
        user_id = _user(conn, email).id if email else None
        rows = [
            {
                "id": info.id,
                "user": info.user_email,
                "organization": info.organization_slug,
                "label": info.label,
                "scopes": list(info.scopes),
                "dateCreated": iso_utc(info.created_at),
                "lastUsed": iso_utc(info.last_used_at),
            }
            for info in list_tokens(conn, user_id)
        ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        kind = f"org {row['organization']}" if row["organization"] else "personal"
        used = row["lastUsed"] or "never used"
        click.echo(f"{row['id']:>4}  {row['user']:<30} {kind:<20} {row['label'] or '-':<20} {used}")


@token.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke (delete) token TOKEN_ID; requests with it are refused at once."""
    from shoal.store.db import write_transaction
    from shoal.store.tokens import revoke_token

    with write_transaction(command_engine(command_config())) as conn:
        if not revoke_token(conn, token_id):
            raise click.ClickException(f"no token {token_id}")
    click.echo(f"Revoked token {token_id}.")
