"""`shoal cleanup`: delete events past their project's retention now, as the hourly scheduler
would, with a progress bar, and say what was deleted and freed (docs/retention.md).

`--vacuum` then gives the freed space back to the file system: on SQLite a full VACUUM (needed
once for a database made before Shoal turned incremental vacuum on), on PostgreSQL VACUUM ANALYZE.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from shoal.retention import CleanupReport


@click.command()
@click.option("--project", "slug", help="Only this project (its slug) [default: every project].")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    help="Keep this many days instead of each project's retention setting.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted; change nothing.")
@click.option("--vacuum", is_flag=True, help="Afterwards, give the freed space back to the file system.")
def cleanup(slug: str | None, days: int | None, dry_run: bool, vacuum: bool) -> None:
    """Delete events older than their project's retention (each issue keeps its counts, its first
    event and the events that regressed it) and print what was freed."""
    # shoal.cli imports this module, so its helpers are imported here, where the cycle is harmless.
    from shoal import retention
    from shoal.cli import command_config, command_engine
    from shoal.store import disk

    engine = command_engine(command_config())
    try:
        plans = retention.plan(engine, time.time(), slug=slug, days=days)
    except retention.NoSuchProject as exc:
        raise click.ClickException(str(exc)) from exc
    for p in plans:
        days_kept = f"{p.days} day{'' if p.days == 1 else 's'}"
        click.echo(
            f"{p.project.slug}: keeping {days_kept}, events before {_utc(p.cutoff)}: {p.events:,} to delete"
        )
    total = sum(p.events for p in plans)
    label = "Counting" if dry_run else "Deleting events"
    # click draws the bar only on a terminal; elsewhere it prints the label once, so a log or a
    # pipe gets one line rather than a stream of carriage returns.
    with click.progressbar(length=max(total, 1), label=label, show_pos=True) as bar:
        options = retention.CleanupOptions(dry_run=dry_run, progress=bar.update)
        report = retention.run(engine, plans, options)
        bar.update(max(total, 1) - bar.pos)
    _print_report(report)
    if vacuum and not dry_run:
        before = disk.usage(engine)
        click.echo("Vacuuming (the digest waits until this ends; ingest goes on)…")
        started = time.perf_counter()
        disk.vacuum(engine)
        after = disk.usage(engine)
        click.echo(
            f"Vacuumed in {time.perf_counter() - started:.1f} s: the database went from "
            f"{_size(before.total_bytes)} to {_size(after.total_bytes)}."
        )
    elif not dry_run:
        _print_space_hint(report)


def _print_report(report: CleanupReport) -> None:
    from shoal import retention

    verb = "Would delete" if report.dry_run else "Deleted"
    click.echo(
        f"{verb} {report.events_deleted:,} events ({_size(report.payload_bytes)} of compressed payloads) "
        f"and {report.issues_deleted:,} issues last seen before the retention with no event left."
    )
    click.echo(f"{verb} {report.transactions_deleted:,} transactions that started before the retention.")
    click.echo(f"Kept {report.kept:,} older events as samples: each issue's first event and its regressions.")
    if not report.dry_run and report.batches:
        click.echo(
            f"{report.batches:,} write transactions of at most {retention.BATCH_EVENTS:,} deletes; the "
            f"longest took {report.longest_lock * 1000:.0f} ms with its commit (median "
            f"{report.median_lock * 1000:.0f} ms)."
        )


def _print_space_hint(report: CleanupReport) -> None:
    after = report.disk_after
    if after is None:
        return
    if report.reclaimed_bytes:
        click.echo(f"Gave {_size(report.reclaimed_bytes)} back to the file system (incremental vacuum).")
    click.echo(f"The database is {_size(after.total_bytes)}.")
    if after.free_bytes and after.incremental:
        click.echo(
            f"{_size(after.free_bytes)} of it are free pages that new events will reuse (Shoal gives them "
            "back to the file system after a cleanup that frees a fifth of the file)."
        )
    elif after.free_bytes:
        click.echo(
            f"{_size(after.free_bytes)} of it are free pages that new events will reuse; SQLite does not "
            "shrink this database's file by itself. Run `shoal cleanup --vacuum` once to give the space "
            "back and let later cleanups shrink the file (it needs free disk as large as the database)."
        )


def _utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n:,} bytes"
    value, unit = n / 1000, "KB"
    for larger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, larger
    return f"{value:,.1f} {unit}"
