"""``crmkit privacy export|erase|restrict|rectify|check``: data subject rights on the command line.

Each command is a thin layer over ``crm.privacy``: the policy, the unit of
work and the audit entry are the library's; here are only the plan shown
before an erasure, its confirmation and the messages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click

from crmkit.cli.contacts import CONTACT_HINT, contact_label
from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_table
from crmkit.cli.records import apply_assignments, confirm_delete, hint_on_not_found
from crmkit.errors import NotFound
from crmkit.serialize import to_jsonable
from crmkit.validation import contact_email

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.privacy.erasure import ErasurePlan

CHECK_FAILED = 4  # the exit code of invalid data: the declarations are incomplete


# -- export -------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (it holds personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


@click.command("export")
@click.argument("contact")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the bundle to this file (default: print it).",
)
def export_command(contact: str, output: Path | None) -> None:
    """Export everything held on CONTACT (an id or email) as one JSON bundle.

    The bundle holds the person's records from the core and every plugin
    (profile, organization links, timeline, consent history, processing
    state, plugin records), each entity type's privacy declarations and the
    events about them. Allowed while processing is restricted; audited.
    """
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        bundle = crm.privacy.export(contact)
    text = json.dumps(to_jsonable(bundle), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    _write_private(output, text)
    records = sum(len(rows) for rows in bundle["records"].values())
    click.echo(
        f"Exported {records} records and {len(bundle['events'])} events about contact "
        f"{bundle['contact_id']} to {output}"
    )


# -- erase --------------------------------------------------------------------------


PLAN_COLUMNS = (
    ("entity", "ENTITY"),
    ("plugin", "PLUGIN"),
    ("deleted", "DELETE"),
    ("anonymised", "ANONYMISE"),
)


def _echo_plan(plan: ErasurePlan, label: str) -> None:
    """Print what erasure will do, entity type by entity type."""
    click.echo(f"Erasing {label} will:")
    touched = [part for part in plan.entities if part.deleted or part.anonymised]
    rows: list[dict[str, Any]] = [attrs.asdict(part) for part in touched]
    echo_table(rows, PLAN_COLUMNS, empty="  (no records to delete or anonymise)")
    blanked = [part for part in touched if part.anonymised]
    if blanked:
        click.echo("Fields blanked on the records that stay:")
        for part in blanked:
            click.echo(f"  {part.entity}: {', '.join(part.fields)}")
    held = [
        (part.entity, name, reason)
        for part in plan.entities
        if part.anonymised or part.kept
        for name, reason in part.held
    ]
    if held:
        click.echo("Kept under legal hold:")
        for entity, name, reason in held:
            click.echo(f"  {entity}.{name}: {reason}")
    click.echo(f"Event payloads scrubbed: {plan.events}")
    if plan.suppressed:
        kinds = " and ".join(plan.suppressed)
        click.echo(f"Suppressed (keyed hashes only): {kinds}, so the person is not added again")


def _refuse_unknown(crm: CRM, ref: str) -> NoReturn:
    """Not found; for the email of someone erased (it is suppressed), say so."""
    error = NotFound("contact", ref)
    try:
        email = contact_email(ref) if "@" in ref else None
    except ValueError:
        email = None
    if email is not None and crm.privacy.is_suppressed(email=email):
        error.args = (
            f"{error}: it belonged to a person who was already erased (only a keyed hash of it "
            "is kept); name the erased contact by id",
        )
    else:
        error.args = (f"{error}; {CONTACT_HINT}",)
    raise error


@click.command("erase")
@click.argument("contact")
@click.option("--dry-run", is_flag=True, help="Show what would be erased; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (or the result) as JSON.")
def erase_command(contact: str, dry_run: bool, yes: bool, as_json: bool) -> None:
    """Erase CONTACT (an id or email) across the core and every plugin.

    Shows the plan first: per entity type the records deleted, the records
    anonymised and the fields blanked, and what is kept under legal hold.
    Then, after confirmation (--yes skips it), carries it out in one
    transaction, scrubs the person's values from the event outbox and keeps
    keyed hashes of their email and phone so they are not added again.
    """
    crm = get_crm()
    person = crm.contacts.find(contact)
    if person is None:
        _refuse_unknown(crm, contact)
    plan = crm.privacy.erasure_plan(person.id)
    label = f"contact {person.id}" if plan.already_erased else contact_label(person)
    if plan.already_erased:
        when = f" on {plan.erased_at:%Y-%m-%d}" if plan.erased_at else ""
        if as_json:
            echo_json(plan)
        else:
            click.echo(f"{label} was already erased{when}; nothing is left to erase.")
        return
    if not as_json:
        _echo_plan(plan, label)
    if dry_run:
        if as_json:
            echo_json(plan)
        else:
            click.echo("Dry run: nothing was changed.")
        return
    if not yes:
        confirm_delete(f"Erase {label}? This cannot be undone.", label, verb="erase", done="erased")
    done = crm.privacy.erase(person.id)
    if as_json:
        echo_json(done)
        return
    click.echo(
        f"Erased contact {done.contact_id}: {done.deleted} records deleted, "
        f"{done.anonymised} anonymised, {done.events} event payloads scrubbed."
    )


# -- restrict and rectify -------------------------------------------------------------


@click.command("restrict")
@click.argument("contact")
@click.option("--reason", metavar="TEXT", help="Why processing is restricted (required).")
@click.option("--lift", is_flag=True, help="End the restriction instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the processing state as JSON.")
def restrict_command(contact: str, reason: str | None, lift: bool, as_json: bool) -> None:
    """Restrict processing of CONTACT, or lift the restriction with --lift.

    While restricted, the person's data is kept, read, exported and
    corrected, and nothing else: no changes, no contact, no analytics.
    """
    from crmkit.privacy.rights import processing_state

    if lift and reason is not None:
        raise click.UsageError("give either --reason TEXT (to restrict) or --lift, not both")
    if not lift and not reason:
        raise click.UsageError("say why with --reason TEXT, or end a restriction with --lift")
    crm = get_crm()
    with hint_on_not_found("contact", CONTACT_HINT):
        before = processing_state(crm, contact)
        if lift:
            crm.privacy.lift_restriction(before.contact_id)
        else:
            crm.privacy.restrict(before.contact_id, reason=reason or "")
        after = processing_state(crm, before.contact_id)
    if as_json:
        echo_json(after)
    elif lift and not before.restricted:
        click.echo(f"Processing of contact {after.contact_id} was not restricted; nothing changed.")
    elif lift:
        click.echo(f"Lifted the restriction of processing of contact {after.contact_id}.")
    else:
        click.echo(f"Restricted processing of contact {after.contact_id} ({after.reason}).")


@click.command("rectify")
@click.argument("contact")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="The corrected value of a built-in or custom field (repeatable).",
)
@click.option("--unset", multiple=True, metavar="FIELD", help="Clear a field (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the corrected contact as JSON.")
def rectify_command(
    contact: str, assignments: tuple[str, ...], unset: tuple[str, ...], as_json: bool
) -> None:
    """Correct CONTACT's data (allowed while processing is restricted).

    \b
    Example:
      crmkit privacy rectify ada@example.com --set last_name=King --set city=London
    """
    crm = get_crm()
    values = apply_assignments(crm, "contact", {}, assignments, unset)
    if not values:
        raise click.UsageError("nothing to correct; give --set FIELD=VALUE or --unset FIELD")
    with hint_on_not_found("contact", CONTACT_HINT):
        corrected = crm.privacy.rectify(contact, **values)
    if as_json:
        echo_json(corrected)
        return
    click.echo(f"Rectified contact {contact_label(corrected)}")


# -- check --------------------------------------------------------------------------


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check_command(as_json: bool) -> None:
    """Check that every field of every loaded entity type declares its privacy.

    Fails (exit code 4), one line per problem, naming the entity type and
    field, when a field has no privacy class or erasure strategy, or keeps a
    personal value on erasure without a hold reason.
    """
    crm = get_crm()
    types = list(crm.entity_types.values())
    fields = sum(len(etype.fields) for etype in types)
    problems = crm.privacy.check()
    if as_json:
        echo_json(
            {
                "ok": not problems,
                "entity_types": len(types),
                "fields": fields,
                "problems": problems,
            }
        )
    elif problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(
            f"{len(problems)} privacy declaration problem(s) in "
            f"{len({p.entity for p in problems})} entity type(s)",
            err=True,
        )
    else:
        click.echo(f"ok: {len(types)} entity types, {fields} fields checked")
    if problems:
        raise click.exceptions.Exit(CHECK_FAILED)
