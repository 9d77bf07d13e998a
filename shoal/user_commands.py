"""`shoal user …`: what an operator does for a person who cannot help themselves in the UI, such
as setting a password when Shoal cannot send reset emails (no SHOAL_SMTP_HOST).

Setting a password ends the user's sessions and spends their open reset links, as a reset
through the UI does.
"""

from __future__ import annotations

import time

import click

from shoal.cli import command_config, command_engine


@click.group()
def user() -> None:
    """Manage user accounts."""


@user.command("set-password")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="The new password.")
def set_password(email: str, password: str) -> None:
    """Set the password of the user with this EMAIL and log them out everywhere."""
    from shoal.store import password_resets, sessions, users
    from shoal.store.db import write_transaction

    problem = users.password_problem(password)
    if problem:
        raise click.ClickException(f"that password cannot be used. {problem}")
    with write_transaction(command_engine(command_config())) as conn:
        found = users.find_user_by_email(conn, email)
        if found is None:
            raise click.ClickException(f"no user with email {email.strip().lower()!r}")
        users.set_password(conn, found.id, password)
        ended = sessions.end_user_sessions(conn, found.id)
        password_resets.end_resets(conn, found.id, time.time())
    click.echo(f"Set the password of {found.email}; {ended} session{'' if ended == 1 else 's'} ended.")
