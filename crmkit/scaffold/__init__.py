"""A new plugin package, ready to install: ``crmkit plugin new NAME [DIR]``.

:func:`new_plugin` writes a complete plugin in the shape ``docs/howto/write-a-plugin.md``
teaches: a ``pyproject.toml`` with the ``crmkit.plugins`` entry point and a
crmkit requirement matching this crmkit, a module with one entity type, one
event, one command group and a customer-view section, the plugin's migration
branch, tests, a README and a tox.ini. The files are rendered from templates
shipped with crmkit (``crmkit/scaffold/templates``). Everything is checked and
rendered before the first file is written, so a refused name or folder leaves
nothing behind.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from packaging.version import Version

from crmkit import __version__
from crmkit.cli import CORE_COMMANDS
from crmkit.errors import ConfigError, ValidationError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_LENGTH = 32
"""Keeps index names such as ``ix_<name>_record_contact_id`` within PostgreSQL's 63 characters."""

RESERVED_NAMES = frozenset({"crmkit", *CORE_COMMANDS})
"""Names a plugin cannot take: its command group would be hidden by a core command."""

# template file -> path in the new package ("{name}" is the plugin's name)
FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("README.md.tmpl", "README.md"),
    ("tox.ini.tmpl", "tox.ini"),
    ("plugin.py.tmpl", "crmkit_{name}/__init__.py"),
    ("migration.py.tmpl", "crmkit_{name}/migrations/{name}_0001_records.py"),
    ("test_plugin.py.tmpl", "tests/test_{name}.py"),
    ("test_conformance.py.tmpl", "tests/test_conformance.py"),
)
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def check_plugin_name(name: str) -> str:
    """``name`` if it can name a plugin; else :class:`ValidationError` saying what is allowed.

    The name becomes the entry point, the module ``crmkit_<name>``, the entity
    and event prefix, the table prefix, the migration branch and the command group.
    """
    if not NAME_PATTERN.fullmatch(name):
        reason = (
            f"{name!r} is not a valid name; use lowercase letters, digits and underscores, "
            "starting with a letter (e.g. 'loyalty')"
        )
    elif len(name) > MAX_NAME_LENGTH:
        reason = f"{name!r} is too long; use at most {MAX_NAME_LENGTH} characters"
    elif name in RESERVED_NAMES:
        reason = f"{name!r} is taken by a crmkit command; choose another name"
    else:
        return name
    raise ValidationError("plugin", "name", reason)


def crmkit_requirement(version: str = __version__) -> str:
    """The requirement a new plugin declares: this crmkit's compatible release range.

    Before 1.0 a minor release may break plugins (``crmkit>=0.1,<0.2``); from
    1.0 on, a major release (``crmkit>=1.4,<2``).
    """
    current = Version(version)
    lower = Version(f"{current.major}.{current.minor}")
    low = f"{current.major}.{current.minor}" if lower <= current else str(current)
    high = f"0.{current.minor + 1}" if current.major == 0 else f"{current.major + 1}"
    return f"crmkit>={low},<{high}"


def default_directory(name: str) -> Path:
    """Where ``crmkit plugin new NAME`` writes when no folder is given: ``./crmkit-NAME``."""
    return Path(f"crmkit-{name}")


def render(name: str, *, today: dt.date | None = None) -> dict[str, str]:
    """The new plugin's files, path (relative, with ``/``) -> text, without writing them."""
    check_plugin_name(name)
    values = {
        "name": name,
        "Name": "".join(part.capitalize() for part in name.split("_")),
        "title": name.replace("_", " ").strip().capitalize(),
        "crmkit_requirement": crmkit_requirement(),
        "date": (today or dt.date.today()).isoformat(),
    }
    templates = resources.files(__package__).joinpath("templates")
    return {
        target.format(name=name): _fill(
            templates.joinpath(template).read_text(encoding="utf-8"), values
        )
        for template, target in FILES
    }


def _fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{{key}}``; templates name only keys ``render`` knows."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def new_plugin(name: str, directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write a new plugin package called ``name`` into ``directory``; return the files.

    ``directory`` (default ``./crmkit-<name>``) must not exist or be empty.
    The files are written to a temporary folder beside it and moved into place
    at the end, so a failure leaves no half-written plugin.
    """
    files = render(name)
    target = Path(directory) if directory is not None else default_directory(name)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file; give a new or empty folder for the plugin")
    if target.is_dir() and any(target.iterdir()):
        raise ConfigError(
            f"{target} already exists and is not empty; give a new or empty folder for the plugin"
        )
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".crmkit-{name}-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if target.is_dir():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / relative for relative in files]
