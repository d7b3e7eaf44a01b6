"""Plugin loading: hook specifications and the per-CRM plugin manager."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "crmkit.plugins"
"""The entry-point group plugins declare themselves in (kept here, import-light, for the CLI)."""


def installed_entry_points() -> list[EntryPoint]:
    """Entry points of installed plugins, sorted by name (the order never matters).

    The one place crmkit asks what is installed, so the command line, the loader
    and the tests that stand in for an installation all see the same list.
    """
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
