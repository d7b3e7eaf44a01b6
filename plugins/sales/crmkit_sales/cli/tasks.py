"""``crmkit sales tasks``: follow-ups due on a day, for a lead, a deal or neither.

Tasks are named by id, a lead by its id or email, a deal by its id or title.
``overdue`` lists the open tasks due before today
(UTC). Read commands have ``--json``; an unknown task, lead or deal exits 3,
a bad value or a task done twice 4, a refusal of the privacy policy 7.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table

if TYPE_CHECKING:
    from crmkit_sales.entities import Task

TASK_COLUMNS = (
    ("id", "ID"),
    ("due", "DUE"),
    ("title", "TITLE"),
    ("owner", "OWNER"),
    ("deal_id", "DEAL"),
    ("lead_id", "LEAD"),
    ("done_at", "DONE"),
)


def _echo_tasks(tasks: Sequence[Task], as_json: bool, empty: str) -> None:
    if as_json:
        echo_json(list(tasks))
    else:
        echo_table([attrs.asdict(t, recurse=False) for t in tasks], TASK_COLUMNS, empty=empty)


@click.group("tasks")
def tasks_group() -> None:
    """Follow-up tasks: add, list, complete, and see what is overdue."""


@tasks_group.command("add")
@click.argument("title")
@click.option("--due", required=True, metavar="YYYY-MM-DD", help="The day it is due.")
@click.option("--lead", metavar="LEAD", help="The lead it is for (id or email).")
@click.option("--deal", metavar="DEAL", help="The deal it is for (id or title).")
@click.option("--owner", metavar="USER", help="Who does it.")
@click.option("--notes", metavar="TEXT", help="Details.")
@click.option("--json", "as_json", is_flag=True, help="Print the new task as JSON.")
def add_task(
    title: str,
    due: str,
    lead: str | None,
    deal: str | None,
    owner: str | None,
    notes: str | None,
    as_json: bool,
) -> None:
    """Add a task called TITLE.

    \b
    Example:
      crmkit sales tasks add "Send the proposal" --due 2026-03-02 --deal "Analytical engine"
    """
    from crmkit_sales.tasks import Tasks

    task = Tasks(get_crm()).add(title, due=due, lead=lead, deal=deal, owner=owner, notes=notes)
    if as_json:
        echo_json(task)
        return
    click.echo(f"Added task {task.title} ({task.id}), due {task.due.isoformat()}")


@tasks_group.command("list")
@click.option("--owner", metavar="USER", help="Only tasks of USER.")
@click.option("--lead", metavar="LEAD", help="Only tasks for this lead (id or email).")
@click.option("--deal", metavar="DEAL", help="Only tasks for this deal (id or title).")
@click.option("--all", "everything", is_flag=True, help="Include tasks already done.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_tasks(
    owner: str | None, lead: str | None, deal: str | None, everything: bool, as_json: bool
) -> None:
    """List open tasks (with --all, done ones too), soonest due first."""
    from crmkit_sales.tasks import Tasks

    found = Tasks(get_crm()).list(owner=owner, open_only=not everything, lead=lead, deal=deal)
    _echo_tasks(found, as_json, "No tasks match." if everything else "No open tasks.")


@tasks_group.command("show")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def show_task(task: str, as_json: bool) -> None:
    """Show one TASK."""
    from crmkit_sales.tasks import Tasks

    found = Tasks(get_crm()).get(task)
    if as_json:
        echo_json(found)
        return
    echo_record(attrs.asdict(found, recurse=False))


@tasks_group.command("done")
@click.argument("task")
@click.option("--json", "as_json", is_flag=True, help="Print the task as JSON.")
def complete_task(task: str, as_json: bool) -> None:
    """Mark TASK done."""
    from crmkit_sales.tasks import Tasks

    done = Tasks(get_crm()).complete(task)
    if as_json:
        echo_json(done)
        return
    click.echo(f"Done: {done.title} ({done.id})")


@tasks_group.command("overdue")
@click.option("--owner", metavar="USER", help="Only tasks of USER.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Count as overdue what is due before this day (default: today, UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def overdue_tasks(owner: str | None, today: dt.datetime | None, as_json: bool) -> None:
    """List open tasks due before today, oldest first."""
    from crmkit_sales.tasks import Tasks

    found = Tasks(get_crm()).overdue(today=today.date() if today else None, owner=owner)
    _echo_tasks(found, as_json, "Nothing is overdue.")
