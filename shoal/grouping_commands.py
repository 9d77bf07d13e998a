"""`shoal grouping …`: explain why an event groups as it does, dry-run rules, regroup a project.

`explain` works on a stored event (by id) or, without a server or database, on an event JSON file;
Sentry's own grouping inputs can be fed to it as they are (their `_grouping.enhancements` and
`_fingerprinting_rules` keys are honoured).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from shoal.cli import command_config, command_engine

_DEFAULT_CONFIG = "newstyle:2026-01-20"


@click.group()
def grouping() -> None:
    """Explain, try out and re-apply grouping."""


@grouping.command("explain")
@click.argument("event")
@click.option("--json", "as_json", is_flag=True, help="Print the variants as JSON.")
@click.option("--config", "config_id", help="Grouping config for an event file [default: the newest].")
@click.option("--fingerprint-rules", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--stacktrace-rules", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def explain(
    event: str,
    as_json: bool,
    config_id: str | None,
    fingerprint_rules: Path | None,
    stacktrace_rules: Path | None,
) -> None:
    """Why EVENT groups as it does. EVENT is a stored event's id, or a path to an event JSON file."""
    from shoal.digest.grouping.explain import explain as explain_result
    from shoal.digest.grouping.explain import render_text

    if Path(event).is_file():
        settings, data = _file_event(Path(event), config_id, fingerprint_rules, stacktrace_rules)
    else:
        settings, data = _stored_event(event)
    explanation = explain_result(_group(data, settings))
    click.echo(json.dumps(explanation, indent=2) if as_json else render_text(explanation))


def _file_event(
    path: Path, config_id: str | None, fingerprint_rules: Path | None, stacktrace_rules: Path | None
) -> tuple[Any, dict[str, Any]]:
    from shoal.digest.grouping.fingerprint_rules import fingerprint_rules_from_json
    from shoal.store.projects import ProjectGrouping

    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path}: not a JSON event ({exc})") from exc
    if not isinstance(raw, dict):
        raise click.ClickException(f"{path}: the event must be a JSON object")
    # Sentry's grouping inputs carry their project's rules along (grouping.md §12.1).
    enhancements = str((raw.pop("_grouping", None) or {}).get("enhancements") or "")
    published_rules = raw.pop("_fingerprinting_rules", None)
    fingerprint_text = fingerprint_rules_from_json(published_rules).text() if published_rules else ""
    settings = ProjectGrouping(
        config_id or _DEFAULT_CONFIG,
        fingerprint_rules.read_text() if fingerprint_rules else fingerprint_text,
        "\n".join(filter(None, [enhancements, stacktrace_rules.read_text() if stacktrace_rules else ""])),
    )
    return settings, _normalized(raw)


def _normalized(raw: dict[str, Any]) -> dict[str, Any]:
    from shoal.digest.normalize import InvalidEvent, NormalizeContext, normalize_event

    try:
        return normalize_event(raw, NormalizeContext(time.time(), None, None, None))
    except InvalidEvent as exc:
        raise click.ClickException(str(exc)) from exc


def _stored_event(event_id: str) -> tuple[Any, dict[str, Any]]:
    from shoal.store.events import PayloadCodec, find_event
    from shoal.store.projects import ProjectGrouping, get_project

    with command_engine(command_config()).connect() as conn:
        found = find_event(conn, PayloadCodec(), event_id.replace("-", "").lower())
        if found is None:
            raise click.ClickException(f"no stored event {event_id} (or no file of that name)")
        project_id, stored = found
        project = get_project(conn, project_id)
    assert project is not None
    # The config the event was grouped with, and the project's rules as they are now.
    config_id = str((stored.data.get("grouping_config") or {}).get("id") or project.grouping.config_id)
    grouping = project.grouping
    return ProjectGrouping(config_id, grouping.fingerprint_rules, grouping.stacktrace_rules), stored.data


def _group(data: dict[str, Any], settings: Any) -> Any:
    from shoal.digest.grouping import UnknownGroupingConfig
    from shoal.digest.project_grouping import group_event

    try:
        return group_event(data, settings)
    except (UnknownGroupingConfig, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@grouping.command("regroup")
@click.option("--project", "project_ref", required=True, help="Project id or slug.")
def regroup(project_ref: str) -> None:
    """Group every stored event of a project again with its current config and rules."""
    from shoal.digest.regroup import regroup_project
    from shoal.store.db import write_transaction
    from shoal.store.events import PayloadCodec, events_per_issue

    engine = command_engine(command_config())
    codec = PayloadCodec()
    with write_transaction(engine) as conn:
        project = _project(conn, project_ref)
        total = sum(events_per_issue(conn, project.id).values())
        with click.progressbar(length=total, label=f"Regrouping {project.slug}") as bar:
            moved = regroup_project(conn, codec, project.id, project.grouping, progress=bar.update)
    click.echo(f"{total} events regrouped with {project.grouping.config_id}; {moved} changed issue.")


def _project(conn: Any, ref: str) -> Any:
    from shoal.bootstrap import default_organization_id
    from shoal.store.projects import get_project, get_project_by_slug

    found = get_project(conn, int(ref)) if ref.isdigit() else None
    found = found or get_project_by_slug(conn, default_organization_id(conn), ref)
    if found is None:
        raise click.ClickException(f"no project {ref!r}")
    return found
