"""``crmkit sales leads``: capture, list, qualify, score, convert and import leads.

A lead is named by its id or by its email when only one lead has that email
(``crmkit sales leads list`` shows them). Every read
command has ``--json`` for scripts. Errors end with the core's exit codes: 3
for a lead not found, 4 for a bad value or an invalid import file, 7 when the
privacy policy refuses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_masked, echo_record, echo_table, masked_fields

if TYPE_CHECKING:
    from crmkit.io.importer import ImportRefused
    from crmkit_sales.entities import Lead
    from crmkit_sales.lead_import import LeadImportReport
    from crmkit_sales.scoring import Score

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID = 4
LEAD_COLUMNS = (
    ("id", "ID"),
    ("name", "NAME"),
    ("company", "COMPANY"),
    ("email", "EMAIL"),
    ("source", "SOURCE"),
    ("status", "STATUS"),
    ("score", "SCORE"),
    ("owner", "OWNER"),
)
# (option, field, help) of the lead's own fields in ``add`` and ``update``.
LEAD_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--first-name", "first_name", "First name."),
    ("--last-name", "last_name", "Last name."),
    ("--email", "email", "Email address; checked and normalised."),
    ("--phone", "phone", "Phone number; stored as E.164."),
    ("--company", "company", "The company the person buys for."),
    ("--title", "title", "Job title."),
    ("--source", "source", "Where the lead came from (e.g. referral, web)."),
    ("--owner", "owner", "Who works the lead."),
    ("--notes", "notes", "Free notes."),
)
BANT = ("budget", "authority", "need", "timeline")
BANT_HELP = {
    "budget": "They have the budget.",
    "authority": "They can decide the purchase.",
    "need": "They need what is sold.",
    "timeline": "They mean to buy soon.",
}


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def field_options(func: F) -> F:
    """The ``--first-name ... --notes`` options, passed on as keyword arguments."""
    for option, name, help_ in reversed(LEAD_OPTIONS):
        func = click.option(option, name, default=None, help=help_)(func)
    return func


def bant_options(func: F) -> F:
    """``--budget/--no-budget`` and the other BANT answers; not given means unchanged."""
    for name in reversed(BANT):
        func = click.option(f"--{name}/--no-{name}", name, default=None, help=BANT_HELP[name])(func)
    return func


def lead_name(lead: Lead) -> str:
    """The person's name, else their email, else the company."""
    name = " ".join(str(p) for p in (lead.first_name, lead.last_name) if p)
    return name or str(lead.email or lead.company or "")


def _given(options: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: options[name] for name in names if options.get(name) is not None}


def _echo_lead(lead: Lead, verb: str, as_json: bool) -> None:
    if as_json:
        echo_json(lead)
        return
    click.echo(
        f"{verb} lead {lead_name(lead) or lead.id} ({lead.id}): {lead.status}, score {lead.score}"
    )


@click.group("leads")
def leads_group() -> None:
    """Capture, qualify (BANT), score, convert and import leads."""


@leads_group.command("add")
@field_options
@bant_options
@json_option
def add_lead(as_json: bool, **options: Any) -> None:
    """Add a lead; it needs a name, email or company.

    \b
    Examples:
      crmkit sales leads add --first-name Ada --email ada@example.com --company "Acme Ltd"
      crmkit sales leads add --company Initech --source referral --budget
    """
    from crmkit_sales.leads import Leads

    fields = _given(options, (*(name for _, name, _ in LEAD_OPTIONS), *BANT))
    lead = Leads(get_crm()).add(**fields)
    _echo_lead(lead, "Added", as_json)


@leads_group.command("update")
@click.argument("lead_id", metavar="LEAD")
@field_options
@click.option("--status", type=click.Choice(["new", "working"]), help="Work status.")
@json_option
def update_lead(lead_id: str, as_json: bool, **options: Any) -> None:
    """Change fields of the lead LEAD.

    LEAD: an id or the lead's email when only one lead has it.
    """
    from crmkit_sales.leads import Leads

    changes = _given(options, (*(name for _, name, _ in LEAD_OPTIONS), "status"))
    if not changes:
        raise click.UsageError("give at least one field to change, e.g. --owner alice")
    lead = Leads(get_crm()).update(lead_id, **changes)
    _echo_lead(lead, "Updated", as_json)


@leads_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["new", "working", "qualified", "unqualified", "converted"]),
    help="Only leads with this status.",
)
@click.option("--owner", metavar="USER", help="Only leads worked by USER.")
@click.option("--source", metavar="SOURCE", help="Only leads from SOURCE.")
@click.option("--min-score", type=int, metavar="N", help="Only leads scoring N or more.")
@click.option("--limit", default=50, show_default=True, help="Leads to show (0: all).")
@json_option
def list_leads(
    status: str | None,
    owner: str | None,
    source: str | None,
    min_score: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """List leads, best score first."""
    from crmkit_sales.leads import Leads

    leads = Leads(get_crm()).list(
        status=status, owner=owner, source=source, min_score=min_score, limit=limit or None
    )
    if as_json:
        echo_json(leads)
        return
    rows = [{**_fields(lead), "name": lead_name(lead)} for lead in leads]
    echo_table(rows, LEAD_COLUMNS, empty="No leads match.")


def _fields(lead: Lead) -> dict[str, Any]:
    import attrs

    return attrs.asdict(lead, recurse=False)


@leads_group.command("show")
@click.argument("lead_id", metavar="LEAD")
@json_option
def show_lead(lead_id: str, as_json: bool) -> None:
    """Show the lead LEAD.

    LEAD: an id or the lead's email when only one lead has it.
    """
    from crmkit_sales.leads import Leads

    crm = get_crm()
    lead = Leads(crm).get(lead_id)
    if as_json:
        echo_json(lead)
        return
    echo_record(_fields(lead))
    echo_masked(crm.privacy.actor().name, masked_fields(lead))


@leads_group.command("qualify")
@click.argument("lead_id", metavar="LEAD")
@bant_options
@json_option
def qualify_lead(lead_id: str, as_json: bool, **answers: bool | None) -> None:
    """Record BANT answers for LEAD and qualify it.

    The lead is qualified when all four answers are yes or its score reaches
    qualify_at ([plugins.sales.scoring] in crmkit.toml); otherwise it is working.
    LEAD: an id or the lead's email when only one lead has it.

    \b
    Example:
      crmkit sales leads qualify LEAD --budget --authority --need --no-timeline
    """
    from crmkit_sales.leads import Leads

    lead = Leads(get_crm()).qualify(
        lead_id,
        budget=answers["budget"],
        authority=answers["authority"],
        need=answers["need"],
        timeline=answers["timeline"],
    )
    _echo_lead(lead, "Qualified" if lead.status == "qualified" else "Answered", as_json)


@leads_group.command("disqualify")
@click.argument("lead_id", metavar="LEAD")
@click.option("--reason", required=True, metavar="TEXT", help="Why the lead is not worth working.")
@json_option
def disqualify_lead(lead_id: str, reason: str, as_json: bool) -> None:
    """Mark the lead LEAD unqualified, with a reason.

    LEAD: an id or the lead's email when only one lead has it.
    """
    from crmkit_sales.leads import Leads

    lead = Leads(get_crm()).disqualify(lead_id, reason)
    _echo_lead(lead, "Disqualified", as_json)


def _echo_score(score: Score) -> None:
    learned = "none (too little history)" if score.learned is None else f"{score.learned:.1f}%"
    click.echo(f"Score {score.total}: rule points {score.points}, learned {learned}")
    for reason in score.reasons:
        click.echo(f"  {reason}")
    for learned_reason in score.learned_reasons:
        click.echo(f"  learned: {learned_reason}")


@leads_group.command("score")
@click.argument("lead_id", metavar="LEAD")
@click.option("--dry-run", is_flag=True, help="Show the score without storing it.")
@json_option
def score_lead(lead_id: str, dry_run: bool, as_json: bool) -> None:
    """Score the lead LEAD and show why it scores what it does.

    LEAD: an id or the lead's email when only one lead has it.
    """
    from crmkit_sales.leads import Leads

    leads = Leads(get_crm())
    score = leads.explain(lead_id) if dry_run else leads.score(lead_id)
    if as_json:
        echo_json(score.as_dict())
        return
    _echo_score(score)


@leads_group.command("convert")
@click.argument("lead_id", metavar="LEAD")
@click.option("--deal-title", metavar="TEXT", help="Title of the deal (default: the company).")
@click.option("--amount", metavar="AMOUNT", help="Value of the deal, e.g. 12500.00 (default 0).")
@click.option("--currency", metavar="CODE", help="ISO 4217 code (default: default_currency).")
@click.option("--pipeline", metavar="NAME", help="Pipeline (default: default_pipeline).")
@click.option("--stage", metavar="STAGE", help="Open stage to start at (default: the first).")
@click.option(
    "--org", "organization_name", metavar="NAME", help="Organization (default: the company)."
)
@json_option
def convert_lead(lead_id: str, as_json: bool, **options: Any) -> None:
    """Convert LEAD into a contact, an organization and an open deal, all at once.

    LEAD: an id or the lead's email when only one lead has it.
    """
    from crmkit_sales.leads import Leads

    done = Leads(get_crm()).convert(lead_id, **options)
    if as_json:
        echo_json(
            {
                "lead_id": done.lead.id,
                "contact_id": done.contact.id,
                "organization_id": done.organization.id if done.organization else None,
                "deal_id": done.deal.id,
            }
        )
        return
    org = f", organization {done.organization.name}" if done.organization else ""
    click.echo(
        f"Converted lead {done.lead.id}: contact {done.contact.display_name} "
        f"({done.contact.id}){org}, deal {done.deal.title} ({done.deal.id})"
    )


@leads_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--format", "fmt", metavar="FORMAT", help="csv or jsonl (default: the suffix).")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows; write the invalid ones, with reasons, to a rejects file.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Where --skip-invalid writes rejected rows (default: FILE.rejected.csv beside FILE).",
)
@click.option("--source", default="import", show_default=True, help="Source of rows without one.")
@json_option
def import_leads(
    file: str,
    fmt: str | None,
    dry_run: bool,
    skip_invalid: bool,
    rejects: str | None,
    source: str,
    as_json: bool,
) -> None:
    """Import leads from a CSV or JSON Lines FILE.

    Columns are matched to lead fields by name ("First Name" is first_name);
    any other column stops the import. By default nothing is imported if any
    row is invalid; every bad row is listed as "line N: FIELD: REASON" and the
    exit code is 4.
    """
    from crmkit.io.importer import ImportRefused
    from crmkit_sales.lead_import import import_leads as run_import

    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects FILE goes with --skip-invalid")
    try:
        report = run_import(
            get_crm(),
            file,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            format=fmt,
            rejects_path=rejects,
            source=source,
        )
    except ImportRefused as refused:
        _refused(refused, as_json)
        return
    if as_json:
        echo_json(_report_json(report))
    else:
        for problem in report.problems if dry_run and not skip_invalid else ():
            click.echo(str(problem), err=True)
        click.echo(_summary(report))
    if dry_run and report.rejected and not skip_invalid:
        sys.exit(EXIT_INVALID)


def _report_json(report: LeadImportReport) -> dict[str, Any]:
    return {**report.as_dict(), "lead_ids": report.lead_ids}


def _refused(refused: ImportRefused, as_json: bool) -> None:
    report = refused.report
    if as_json:
        echo_json({**report.as_dict(), "imported": 0, "error": refused.summary})
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        hidden = report.rejected - len(report.problems)
        if hidden:
            click.echo(f"... and {hidden:,} more", err=True)
        click.echo(f"Error: {refused.summary}", err=True)
    sys.exit(EXIT_INVALID)


def _summary(report: LeadImportReport) -> str:
    if report.dry_run:
        return (
            f"Dry run of {report.file}: {report.valid:,} valid, {report.rejected:,} invalid "
            f"of {report.total:,} rows; nothing was written"
        )
    noun = "lead" if report.imported == 1 else "leads"
    line = f"Imported {report.imported:,} {noun}, rejected {report.rejected:,}"
    if report.rejects_path is not None:
        line += f"; rejected rows are in {report.rejects_path}"
    return line
