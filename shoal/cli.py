"""The `shoal` command: run, web, worker (digest, notify), migrate, createuser, project, status,
grouping.

Heavy imports happen inside each command, so `shoal status` starts quickly enough to be polled.
Errors a user can fix end the command with one clear line and a non-zero exit code.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from shoal.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from shoal.notify.worker import NotifyWorker


def main() -> None:
    cli(prog_name="shoal")


@click.group()
def cli() -> None:
    """Shoal: a self-hosted error tracker for the Sentry SDKs."""


def command_config() -> Config:
    try:
        config = load_config()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return config


def command_engine(config: Config) -> Engine:
    from shoal.store.db import create_store_engine

    return create_store_engine(config.database_url)


@cli.command()
def run() -> None:
    """Run everything: the web server (UI, API, ingest), the digest workers and notifications."""
    _serve(command_config(), with_workers=True)


@cli.command()
def web() -> None:
    """Run only the web server (UI, API, ingest); run `shoal worker digest` and `shoal worker
    notify` processes beside it."""
    _serve(command_config(), with_workers=False)


def _serve(config: Config, with_workers: bool) -> None:
    import uvicorn

    from shoal.app import ShoalApp
    from shoal.bootstrap import prepare
    from shoal.processes import WorkerSupervisor

    engine, welcome = prepare(config)
    click.echo(f"Shoal is running at {welcome.url}/")
    click.echo(
        f"Login: {welcome.admin_email}"
        + (f"  password: {welcome.admin_password}" if welcome.admin_password else "")
    )
    if welcome.admin_password:
        click.echo("(The password is shown only this once; set SHOAL_ADMIN_PASSWORD to choose your own.)")
    if welcome.dsn:
        click.echo(f"DSN: {welcome.dsn}")
    sys.stdout.flush()
    supervisor = WorkerSupervisor(config.digest_workers if with_workers else 0)
    supervisor.start()
    # Notifications are few and their sends wait on the network, not the CPU: a thread of the web
    # process delivers them, so `shoal run` stays one web process and its digest workers.
    stop_notify = threading.Event()
    notifier = threading.Thread(
        target=_notify_worker(config, engine).run_forever, args=(stop_notify,), name="notify", daemon=True
    )
    # Retention cleanup and other periodic jobs (shoal/scheduler.py), beside notifications.
    stop_scheduler = threading.Event()
    scheduler = threading.Thread(
        target=_run_scheduler, args=(engine, stop_scheduler), name="scheduler", daemon=True
    )
    if with_workers:
        notifier.start()
        scheduler.start()
    try:
        server = uvicorn.Server(_uvicorn_config(uvicorn, ShoalApp(config, engine), config))
        server.run()
    finally:
        stop_notify.set()
        stop_scheduler.set()
        supervisor.stop()


def _uvicorn_config(uvicorn: Any, app: Any, config: Config) -> Any:
    return uvicorn.Config(
        app,
        host=config.bind_host,
        port=config.bind_port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning" if config.log_level != "debug" else "debug",
        server_header=False,
        backlog=2048,
    )


@cli.command()
@click.argument("kind", type=click.Choice(["digest", "notify", "scheduler"]), default="digest")
@click.option(
    "--parent-pid", type=int, default=None, help="Stop when this process is gone (used by `shoal run`)."
)
@click.option(
    "--nice", "niceness", type=click.IntRange(0, 19), default=0, help="Lower this worker's CPU priority."
)
def worker(kind: str, parent_pid: int | None, niceness: int) -> None:
    """Run a worker: `digest` turns spooled envelopes into stored events, issues and alerts;
    `notify` delivers the alerts; `scheduler` runs the hourly retention cleanup. Run any number of
    each."""
    import os
    import signal

    from shoal.processes import watch_parent

    config = command_config()
    os.nice(niceness)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if parent_pid is not None:
        threading.Thread(target=watch_parent, args=(parent_pid, stop), daemon=True).start()
    if kind == "notify":
        _notify_worker(config).run_forever(stop)
    elif kind == "scheduler":
        _run_scheduler(command_engine(config), stop)
    else:
        _run_digest_worker(config, stop)


def _run_digest_worker(config: Config, stop: threading.Event) -> None:
    from shoal.digest.pipeline import DigestLimits
    from shoal.digest.worker import DigestWorker, collect_garbage_less_often
    from shoal.spool.sqlite import SqliteSpool

    collect_garbage_less_often()
    limits = DigestLimits(config.max_envelope_bytes, config.max_event_bytes, config.max_attachment_bytes)
    spool = SqliteSpool(config.spool_path, durable_writes=False)
    try:
        DigestWorker(spool, command_engine(config), limits, config.digest_lease_seconds).run_forever(stop)
    finally:
        spool.close()


def _run_scheduler(engine: Engine, stop: threading.Event) -> None:
    from shoal.scheduler import run_scheduler

    run_scheduler(engine, stop)


def _notify_worker(config: Config, engine: Engine | None = None) -> NotifyWorker:
    from shoal.notify.base import NotifySettings
    from shoal.notify.worker import NotifyWorker

    return NotifyWorker(engine or command_engine(config), NotifySettings.from_config(config))


@cli.command()
def migrate() -> None:
    """Create or upgrade the store's tables."""
    from shoal.store.migrate import migrate as run_migrations

    config = command_config()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    run_migrations(command_engine(config))
    click.echo("The store is up to date.")


@cli.command()
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--superuser", is_flag=True, help="May see and change everything.")
@click.option("--role", type=click.Choice(["owner", "admin", "member"]), default="member", show_default=True)
def createuser(email: str, password: str, superuser: bool, role: str) -> None:
    """Create a user, a member of the default organization."""
    from shoal.bootstrap import default_organization_id
    from shoal.store import users
    from shoal.store.db import write_transaction

    engine = command_engine(command_config())
    try:
        with write_transaction(engine) as conn:
            user = users.create_user(conn, email, password, is_superuser=superuser)
            users.add_membership(conn, default_organization_id(conn), user.id, role)
    except (users.EmailTaken, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.email}.")


@cli.group()
def project() -> None:
    """Create and list projects."""


@project.command("create")
@click.argument("name")
@click.option("--platform", default="python", show_default=True)
def project_create(name: str, platform: str) -> None:
    """Create a project and print its DSN."""
    from shoal.bootstrap import default_organization_id
    from shoal.digest.grouping import DEFAULT_CONFIG_ID
    from shoal.store import projects
    from shoal.store.db import write_transaction

    config = command_config()
    try:
        with write_transaction(command_engine(config)) as conn:
            info = projects.create_project(
                conn, default_organization_id(conn), name, platform, DEFAULT_CONFIG_ID
            )
            key = projects.first_enabled_key(conn, info.id)
    except (projects.SlugTaken, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created project {info.slug} (id {info.id}).")
    click.echo(f"DSN: {projects.dsn(config.public_url, key or '', info.id)}")


@project.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print [{"id", "slug", "dsn"}, …].')
def project_list(as_json: bool) -> None:
    """List projects with their DSNs."""
    from shoal.store import projects

    config = command_config()
    with command_engine(config).connect() as conn:
        rows = []
        for info in projects.list_projects(conn):
            key = projects.first_enabled_key(conn, info.id)
            rows.append(
                {
                    "id": info.id,
                    "slug": info.slug,
                    "dsn": projects.dsn(config.public_url, key, info.id) if key else None,
                }
            )
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['slug']:<30} {row['dsn'] or '(no enabled key)'}")


@cli.command()
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"backlog", "projects": [{"id", "slug", "events", "issues", "transactions"}]}.',
)
def status(as_json: bool) -> None:
    """How much is waiting in the spool, and what each project holds."""
    from shoal.spool.sqlite import SqliteSpool
    from shoal.store.status import project_counts

    config = command_config()
    spool = SqliteSpool(config.spool_path, durable_writes=False)
    try:
        backlog, dead = spool.backlog(), spool.dead_letters()
    finally:
        spool.close()
    with command_engine(config).connect() as conn:
        counts = project_counts(conn)
    report = {
        "backlog": backlog,
        "dead_letters": dead,
        "projects": [
            {
                "id": c.id,
                "slug": c.slug,
                "events": c.events,
                "issues": c.issues,
                "transactions": c.transactions,
            }
            for c in counts
        ],
    }
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"Spool: {backlog} waiting, {dead} dead letters")
    for c in counts:
        click.echo(
            f"{c.id:>4}  {c.slug:<30} {c.events:>10} events {c.issues:>8} issues"
            f" {c.transactions:>10} transactions"
        )


# Command groups that live in their own module; imported last, since they use the helpers above.
from shoal.cleanup_commands import cleanup  # noqa: E402
from shoal.grouping_commands import grouping  # noqa: E402
from shoal.token_commands import token  # noqa: E402
from shoal.user_commands import user  # noqa: E402

cli.add_command(cleanup)
cli.add_command(grouping)
cli.add_command(token)
cli.add_command(user)
