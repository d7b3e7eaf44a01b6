"""Projects: a folder holding ``crmkit.toml``, and the settings a CRM opens with.

Environment variables override the file: ``CRMKIT_DATABASE_URL`` the database,
``CRMKIT_PROJECT`` which folder is the project.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from crmkit.errors import ConfigError

CONFIG_FILE = "crmkit.toml"
PROJECT_ENV = "CRMKIT_PROJECT"
DATABASE_ENV = "CRMKIT_DATABASE_URL"
DEFAULT_DATABASE = "sqlite:///crm.db"


@attrs.frozen
class Settings:
    """Everything a CRM is opened with, whatever it came from."""

    database_url: str
    plugins: tuple[str, ...] | None = None
    default_region: str | None = None
    custom_fields: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    plugin_settings: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    project_dir: Path | None = None
    privacy: Mapping[str, Any] = attrs.field(factory=dict)

    def plugin(self, name: str) -> Mapping[str, Any]:
        """The ``[plugins.<name>]`` settings (empty if none)."""
        return self.plugin_settings.get(name, {})


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        path = url[len(prefix) :]
        if path and path != ":memory:" and not Path(path).is_absolute():
            return prefix + str((base / path).resolve())
    return url


def find_project(start: str | os.PathLike[str] | None = None) -> Path:
    """The project folder: the one given, else ``$CRMKIT_PROJECT``, else the current one."""
    chosen = start if start is not None else os.environ.get(PROJECT_ENV) or Path.cwd()
    folder = Path(chosen)
    if not (folder / CONFIG_FILE).is_file():
        raise ConfigError(
            f"{folder} is not a crmkit project (no {CONFIG_FILE}); create one with "
            f"'crmkit init {folder}' or pass --project DIR"
        )
    return folder.resolve()


def load_settings(folder: str | os.PathLike[str]) -> Settings:
    """Read ``crmkit.toml`` in ``folder`` and apply environment overrides."""
    base = Path(folder).resolve()
    path = base / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{base} is not a crmkit project (no {CONFIG_FILE})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    core = data.get("crmkit", {})
    if not isinstance(core, dict):
        raise ConfigError(f"{path}: [crmkit] must be a table")
    url = os.environ.get(DATABASE_ENV) or core.get("database") or DEFAULT_DATABASE
    plugins = core.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"{path}: [crmkit] plugins must be a list of plugin names")
    custom = data.get("custom_fields", {})
    plugin_settings = data.get("plugins", {})
    privacy = data.get("privacy", {})
    tables = (("custom_fields", custom), ("plugins", plugin_settings), ("privacy", privacy))
    for key, table in tables:
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{key}] must be a table")
    return Settings(
        database_url=_resolve_sqlite(str(url), base),
        plugins=tuple(plugins),
        default_region=core.get("default_region"),
        custom_fields=custom,
        plugin_settings=plugin_settings,
        project_dir=base,
        privacy=privacy,
    )


def write_project(
    folder: str | os.PathLike[str],
    *,
    database: str = DEFAULT_DATABASE,
    plugins: Sequence[str] = (),
    default_region: str | None = None,
) -> Path:
    """Create ``crmkit.toml`` in ``folder`` (which may not exist yet)."""
    import tomli_w

    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    path = base / CONFIG_FILE
    if path.exists():
        raise ConfigError(f"{path} already exists; this folder is already a crmkit project")
    core: dict[str, Any] = {"database": database, "plugins": list(plugins)}
    if default_region:
        core["default_region"] = default_region
    text = (
        "# crmkit project settings. Environment: CRMKIT_DATABASE_URL overrides 'database'.\n"
        + tomli_w.dumps({"crmkit": core})
        + "\n# Custom fields per entity type, as JSON Schema properties, for example:\n"
        + "# [custom_fields.contact.properties.loyalty_tier]\n"
        + '# type = "string"\n# enum = ["bronze", "silver", "gold"]\n'
    )
    path.write_text(text, encoding="utf-8")
    return path


def write_plugin_list(folder: str | os.PathLike[str], plugins: Sequence[str]) -> Path:
    """Set ``[crmkit] plugins`` in ``folder``'s ``crmkit.toml``, keeping its comments and layout.

    Names already listed keep their place (and any comment beside them), names
    no longer wanted are removed and new ones are appended.
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = Path(folder) / CONFIG_FILE
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{Path(folder)} is not a crmkit project (no {CONFIG_FILE})") from None
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    core = document.get("crmkit")
    if core is None:
        core = tomlkit.table()
        document["crmkit"] = core
    if not isinstance(core, dict):
        raise ConfigError(f"{path}: [crmkit] must be a table")
    listed = core.get("plugins")
    if isinstance(listed, list):
        for index in reversed(range(len(listed))):
            if listed[index] not in plugins:
                del listed[index]
        listed.extend(name for name in plugins if name not in listed)
    else:
        core["plugins"] = list(plugins)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path
