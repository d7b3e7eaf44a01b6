"""``crmkit sales tasks`` as a user types it: output, --json shapes and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import SalesProject


def ok(project: SalesProject, *args: str) -> Any:
    """Run a command that must succeed with ``--json`` and return what it printed."""
    result = project.run(*args, "--json")
    assert result.exit_code == 0, str(result)
    return result.json()


def test_tasks_commands(sales_project: SalesProject) -> None:
    deal = ok(sales_project, "sales", "deals", "add", "Engine", "--amount", "1")
    task = ok(
        sales_project,
        "sales",
        "tasks",
        "add",
        "Send proposal",
        "--due",
        "2020-01-01",
        "--deal",
        deal["id"],
        "--owner",
        "alice",
    )
    assert (task["title"], task["due"], task["deal_id"], task["done_at"]) == (
        "Send proposal",
        "2020-01-01",
        deal["id"],
        None,
    )
    plain = ok(sales_project, "sales", "tasks", "add", "Tidy up", "--due", "2999-01-01")
    assert [t["id"] for t in ok(sales_project, "sales", "tasks", "list")] == [
        task["id"],
        plain["id"],
    ]
    assert [t["id"] for t in ok(sales_project, "sales", "tasks", "overdue")] == [task["id"]]
    late = ok(sales_project, "sales", "tasks", "overdue", "--today", "2019-06-01")
    assert late == []
    shown = sales_project.run("sales", "tasks", "overdue")
    assert "Send proposal" in shown.output and "Tidy up" not in shown.output

    done = ok(sales_project, "sales", "tasks", "done", task["id"])
    assert done["done_at"] is not None
    again = sales_project.run("sales", "tasks", "done", task["id"])
    assert again.exit_code == 4 and "already done" in again.output
    assert [t["id"] for t in ok(sales_project, "sales", "tasks", "list")] == [plain["id"]]
    assert len(ok(sales_project, "sales", "tasks", "list", "--all")) == 2
    assert ok(sales_project, "sales", "tasks", "show", task["id"])["id"] == task["id"]

    unknown = sales_project.run(
        "sales", "tasks", "add", "Call", "--due", "2026-01-01", "--deal", "x"
    )
    assert unknown.exit_code == 3
    bad = sales_project.run("sales", "tasks", "add", "Call", "--due", "soon")
    assert bad.exit_code == 4 and "YYYY-MM-DD" in bad.output
    assert sales_project.run("sales", "tasks", "done", "no-such-task").exit_code == 3
