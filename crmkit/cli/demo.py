"""``crmkit demo``: assemble a demo CRM on SQLite, fill it and show one customer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.demo.load import DemoData


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False), default="demo-crm")
@click.option("--contacts", default=500, show_default=True, help="How many sample contacts.")
@click.option("--organizations", default=80, show_default=True, help="How many organizations.")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample data.")
def demo_command(directory: str, contacts: int, organizations: int, seed: int) -> None:
    """Assemble a demo CRM in DIRECTORY (default ./demo-crm) and show a single customer view.

    Creates the project with every installed plugin enabled, fills it with
    realistic sample data generated from a fixed seed, and prints the single
    customer view of one well-connected contact. If DIRECTORY already holds a
    project, it is shown again as it is.
    """
    import crmkit
    from crmkit.cli.timeline import echo_view
    from crmkit.demo.load import DemoData, load_sample_data
    from crmkit.demo.sample_data import generate
    from crmkit.plugins import installed_entry_points
    from crmkit.project import CONFIG_FILE, write_project

    folder = Path(directory)
    if (folder / CONFIG_FILE).is_file():
        click.echo(f"{folder} already holds a crmkit project; showing it as it is.", err=True)
        with crmkit.open(folder) as crm:
            first = crm.contacts.list(limit=1, order_by=("created_at",))
            if not first:
                raise click.ClickException(f"the project in {folder} has no contacts yet")
            echo_view(crm.view(first[0].id, interactions=10))
        return

    if folder.exists() and any(folder.iterdir()):
        raise click.ClickException(
            f"{folder} exists and is not empty; choose a new folder for the demo"
        )
    plugins = [ep.name for ep in installed_entry_points()]
    started = time.perf_counter()
    write_project(folder, plugins=plugins)
    try:
        crm = crmkit.open(folder)
    except BaseException:
        _remove_project(folder)
        raise
    with crm:
        try:
            data = generate(seed=seed, contacts=contacts, organizations=organizations)
            summary = load_sample_data(crm, data)
            demo = DemoData(
                seed=seed,
                contact_ids=summary.contact_ids,
                organization_ids=summary.organization_ids,
                featured_contact=summary.featured_contact,
            )
            extras = _plugin_demo_data(crm, demo)
        except BaseException:
            # A half-filled demo is removed; once it is filled it stays, even if
            # printing it fails (``crmkit demo | head`` closes the pipe early).
            crm.close()
            _remove_project(folder)
            raise
        loaded = [p.name for p in crm.plugins if p.status == "loaded"]
        elapsed = time.perf_counter() - started
        click.echo(
            f"Demo CRM assembled in {folder}/ (SQLite, {elapsed:.1f} s): "
            f"{summary.contacts} contacts, {summary.organizations} organizations, "
            f"{summary.interactions} interactions, {summary.consents} marketing opt-ins; "
            f"plugins: {', '.join(loaded) or 'none'}."
        )
        for plugin, line in extras:
            click.echo(f"  {plugin}: {line}")
        featured = crm.contacts.get(summary.featured_contact)
        click.echo(
            f"\nSingle customer view of {featured.display_name} "
            f"(crmkit --project {folder} view {featured.email}):\n"
        )
        echo_view(crm.view(featured.id, interactions=10))
    click.echo(f"\nNext, try (from {folder}/, or with --project {folder}):")
    for example in (
        "crmkit contacts list",
        "crmkit contacts search Rodrigues",
        f"crmkit timeline {featured.email}",
        "crmkit export contacts --format csv -o contacts.csv",
    ):
        click.echo(f"  {example}")


def _remove_project(folder: Path) -> None:
    """Remove what the demo made in ``folder``: its crmkit.toml and SQLite files."""
    from crmkit.project import CONFIG_FILE

    (folder / CONFIG_FILE).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (folder / f"crm.db{suffix}").unlink(missing_ok=True)


def _plugin_demo_data(crm: CRM, demo: DemoData) -> list[tuple[str, str]]:
    """Let each plugin add its sample data, dependencies first, and collect their summaries.

    In load order, so that a plugin building on another (campaigns on sales) finds
    that plugin's data there.
    """
    from crmkit.plugins.manager import collect_in_load_order

    found = collect_in_load_order(crm.pm, "crmkit_demo_data", crm=crm, demo=demo)
    return [(plugin, str(line)) for plugin, line in found if line]
