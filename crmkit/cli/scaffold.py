"""``crmkit plugin new NAME [DIR]``: start a new plugin package from crmkit's template.

The package works as generated: install it with ``pip install -e DIR``, add
NAME to a project's plugins, run ``crmkit db upgrade``, and its command,
entity type, event and customer-view section are there; ``pytest`` in DIR
runs its tests. Needs no project and opens no database.
"""

from __future__ import annotations

import click


@click.group("plugin")
def plugin_group() -> None:
    """Create a new plugin package."""


@plugin_group.command("new")
@click.argument("name")
@click.argument("directory", metavar="[DIR]", required=False, type=click.Path(path_type=str))
def new_command(name: str, directory: str | None) -> None:
    """Create the plugin NAME as a package in DIR (default: ./crmkit-NAME).

    NAME is lowercase letters, digits and underscores, starting with a letter.
    DIR must not exist or be empty; nothing is written if either is refused.
    """
    from crmkit.scaffold import new_plugin

    files = new_plugin(name, directory)
    root = files[0].parent
    click.echo(f"Created plugin {name!r} in {root}:")
    for path in files:
        click.echo(f"  {path.relative_to(root).as_posix()}")
    click.echo("Next:")
    click.echo(f"  pip install -e '{root}[test]'")
    click.echo(f"  pytest {root}")
    click.echo(f"  crmkit init shop --plugin {name}")
