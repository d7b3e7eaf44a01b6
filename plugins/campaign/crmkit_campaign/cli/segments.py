"""``crmkit campaign segment``: define, list, show, preview and freeze segments.

Rules are given as JSON or TOML text, inline or from a file with ``@FILE``::

    crmkit campaign segment create parisians \\
        --rules '{"all": [{"field": "city", "op": "eq", "value": "Paris"}]}'
    crmkit campaign segment create buyers --rules @buyers.toml --static

A segment is named by its name or id. Errors end with the core's exit codes:
3 for a segment not found, 4 for bad rules or values, 7 when the privacy
policy refuses.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_masked, echo_record, echo_table, masked_fields
from crmkit.errors import ValidationError
from crmkit.serialize import to_jsonable

if TYPE_CHECKING:
    from crmkit_campaign.entities import Segment
    from crmkit_campaign.segments import Preview

F = TypeVar("F", bound=Callable[..., Any])

SEGMENT_COLUMNS = (
    ("name", "NAME"),
    ("kind", "KIND"),
    ("snapshot_at", "SNAPSHOT AT"),
    ("description", "DESCRIPTION"),
    ("id", "ID"),
)
SAMPLE_COLUMNS = (("id", "ID"), ("name", "NAME"), ("email", "EMAIL"), ("city", "CITY"))


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def parse_rules(text: str) -> dict[str, Any]:
    """A rule tree from JSON or TOML text, or from the file named by ``@FILE``."""
    source = "--rules"
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(
                "campaign.segment", "rules", f"cannot read {path}: {exc.strerror}"
            ) from None
        source = str(path)
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError as json_error:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            raise ValidationError(
                "campaign.segment",
                "rules",
                f"{source} is neither JSON nor TOML (JSON: {json_error}); "
                """give e.g. '{"field": "city", "op": "eq", "value": "Paris"}'""",
            ) from None
    if not isinstance(parsed, Mapping):
        raise ValidationError(
            "campaign.segment", "rules", f"{source}: give one rule object, not {parsed!r}"
        )
    return dict(parsed)


def _row(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "kind": segment.kind,
        "snapshot_at": segment.snapshot_at,
        "description": segment.description,
        "id": segment.id,
    }


def _sample_rows(preview: Preview) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "name": " ".join(str(p) for p in (c.first_name, c.last_name) if p),
            "email": c.email,
            "city": c.city,
        }
        for c in preview.sample
    ]


def _preview_json(preview: Preview) -> dict[str, Any]:
    return {
        "segment": to_jsonable(preview.segment),
        "count": preview.count,
        "sample": [to_jsonable(c) for c in preview.sample],
    }


@click.group("segment")
def segment_group() -> None:
    """Segments: the groups of contacts campaigns are sent to."""


@segment_group.command("create")
@click.argument("name")
@click.option(
    "--rules", "rules_text", required=True, metavar="JSON|TOML|@FILE", help="The rule tree."
)
@click.option("--static", is_flag=True, help="Freeze the members now (snapshot) instead of "
              "working them out at every use.")
@click.option("--description", metavar="TEXT", help="What the segment is for.")
@json_option
def create_command(
    name: str, rules_text: str, static: bool, description: str | None, as_json: bool
) -> None:
    """Define a segment called NAME from a rule tree.

    \b
    Rules: {"all": [...]}, {"any": [...]}, {"not": RULE},
      {"field": "city", "op": "in", "value": ["Paris", "Lyon"]},
      {"field": "tags", "op": "has", "value": "newsletter"},
      {"field": "custom.tier", "op": "eq", "value": "gold"},
      {"interaction": {"kind": "purchase", "within_days": 90}},
      {"condition": "sales.open_deal", "params": {}}
    Consent is not a rule: it is checked for every person when a campaign sends.
    """
    from crmkit_campaign.segments import Segments

    crm = get_crm()
    segment = Segments(crm).create(
        name,
        parse_rules(rules_text),
        kind="static" if static else "dynamic",
        description=description,
    )
    if as_json:
        echo_json(segment)
        return
    click.echo(f"Created {segment.kind} segment {segment.name} ({segment.id})")
    if static:
        members = Segments(crm).preview(segment.id, sample=0).count
        click.echo(f"{members} members (snapshot at {segment.snapshot_at:%Y-%m-%d %H:%M} UTC)")


@segment_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List segments by name."""
    from crmkit_campaign.segments import Segments

    segments = Segments(get_crm()).list()
    if as_json:
        echo_json(segments)
        return
    echo_table([_row(s) for s in segments], SEGMENT_COLUMNS, empty="No segments.")


@segment_group.command("show")
@click.argument("segment")
@json_option
def show_command(segment: str, as_json: bool) -> None:
    """Show a segment (by name or id): its rules and how many contacts it holds now."""
    from crmkit_campaign.segments import Segments

    preview = Segments(get_crm()).preview(segment, sample=0)
    found = preview.segment
    if as_json:
        echo_json({**to_jsonable(found), "count": preview.count})
        return
    echo_record({**_row(found), "members": str(preview.count)})
    click.echo("rules:")
    click.echo(json.dumps(found.rules, indent=2, ensure_ascii=False))


@segment_group.command("preview")
@click.argument("segment")
@click.option("--sample", default=10, show_default=True, metavar="N",
              type=click.IntRange(min=0), help="How many members to show, by name.")
@json_option
def preview_command(segment: str, sample: int, as_json: bool) -> None:
    """Count a segment's members now and show the first few by name."""
    from crmkit_campaign.segments import Segments

    crm = get_crm()
    preview = Segments(crm).preview(segment, sample=sample)
    if as_json:
        echo_json(_preview_json(preview))
        return
    noun = "contact matches" if preview.count == 1 else "contacts match"
    click.echo(f"{preview.count} {noun} segment {preview.segment.name}")
    echo_table(_sample_rows(preview), SAMPLE_COLUMNS)
    masked = sorted({name for c in preview.sample for name in masked_fields(c)})
    echo_masked(crm.privacy.actor().name, masked)


@segment_group.command("snapshot")
@click.argument("segment")
@json_option
def snapshot_command(segment: str, as_json: bool) -> None:
    """Replace a static segment's members with the contacts its rules match now."""
    from crmkit_campaign.segments import Segments

    done = Segments(get_crm()).snapshot(segment)
    if as_json:
        echo_json(
            {
                "segment": to_jsonable(done.segment),
                "members": done.members,
                "added": done.added,
                "removed": done.removed,
            }
        )
        return
    click.echo(
        f"Segment {done.segment.name}: {done.members} members "
        f"(+{done.added}, -{done.removed})"
    )
