"""The ``[plugins.campaign]`` table of crmkit.toml: sender, unsubscribe link, SMTP, limits.

``SETTINGS_SCHEMA`` is checked by crmkit when a CRM opens, so a misspelt key
or a wrong type stops the project from opening with the key named.
:func:`campaign_settings` reads the table on every call (settings belong to a
CRM, not to this module) into :class:`CampaignSettings` with the defaults
filled in; the plugin's ``crmkit_configure`` calls it when a CRM opens, so
what a schema cannot say (a throttle or adapter on a channel crmkit does not
know, an adapter named like the built-in SMTP one) stops the CRM from opening
too, instead of failing on the first message.

The SMTP password is never written in crmkit.toml: it is read from the
``CRMKIT_SMTP_PASSWORD`` environment variable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import ConfigError
from crmkit.project import CONFIG_FILE

if TYPE_CHECKING:
    from crmkit import CRM

PLUGIN = "campaign"
PASSWORD_ENV = "CRMKIT_SMTP_PASSWORD"
SMTP_ADAPTER = "smtp"
ADAPTER_KINDS: tuple[str, ...] = ("file", "webhook")

_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
_ADDRESS = {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$"}
_URL = {"type": "string", "pattern": r"^https?://\S+$"}
_TEXT = {"type": "string", "minLength": 1}

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sender": _ADDRESS,
        "unsubscribe_url": _URL,
        "attribution_window_days": {"type": "integer", "minimum": 1},
        "bounce_threshold": {"type": "integer", "minimum": 1},
        "smtp": {
            "type": "object",
            "properties": {
                "host": _TEXT,
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "starttls": {"type": "boolean"},
                "username": {"type": "string"},
                "timeout": {"type": "number", "exclusiveMinimum": 0},
            },
            "additionalProperties": False,
        },
        "throttle": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
        "adapters": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(ADAPTER_KINDS)},
                    "channel": _NAME,
                    "path": _TEXT,
                    "url": _URL,
                },
                "required": ["kind", "channel"],
                "additionalProperties": False,
                "allOf": [
                    {
                        "if": {"properties": {"kind": {"const": kind}}},
                        "then": {"required": [needs]},
                    }
                    for kind, needs in (("file", "path"), ("webhook", "url"))
                ],
            },
        },
    },
    "additionalProperties": False,
}


@attrs.frozen
class SmtpSettings:
    """Where the built-in SMTP adapter hands email over, and how it logs in."""

    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str | None = attrs.field(default=None, repr=False)
    """From ``$CRMKIT_SMTP_PASSWORD``; ``None`` when unset or empty."""
    timeout: float = 10.0


@attrs.frozen
class AdapterSettings:
    """An extra delivery adapter: ``file`` (JSON lines appended to ``path``) or ``webhook``."""

    name: str
    kind: str
    channel: str
    path: Path | None = None
    """For ``file``: absolute, or resolved against the project folder."""
    url: str | None = None
    """For ``webhook``: where each message is POSTed as JSON."""


@attrs.frozen
class CampaignSettings:
    """The campaigns plugin's settings for one CRM, defaults filled in."""

    sender: str | None = None
    unsubscribe_url: str | None = None
    attribution_window: dt.timedelta = dt.timedelta(days=30)
    bounce_threshold: int = 3
    smtp: SmtpSettings = SmtpSettings()
    throttle: Mapping[str, int] = attrs.field(factory=dict)
    """Messages per minute, by channel; a channel not listed has no limit."""
    adapters: tuple[AdapterSettings, ...] = ()

    def sender_for(self, override: str | None = None) -> str:
        """The From address: a campaign's own ``override``, else ``sender``; refused if neither."""
        chosen = override or self.sender
        if not chosen:
            raise config_error(
                "sender",
                'no From address; set sender = "news@your-domain" or give the campaign one',
            )
        return chosen

    def unsubscribe_base(self) -> str:
        """The unsubscribe page every message links to; refused when it is not set."""
        if not self.unsubscribe_url:
            raise config_error(
                "unsubscribe_url",
                "not set; every campaign message must carry an unsubscribe link, so set "
                'unsubscribe_url = "https://your-site/unsubscribe"',
            )
        return self.unsubscribe_url


def config_error(key: str, message: str) -> ConfigError:
    """A :class:`ConfigError` naming the key of ``[plugins.campaign]`` that is wrong."""
    return ConfigError(f"{CONFIG_FILE} [plugins.{PLUGIN}] {key}: {message}")


def _smtp(table: Mapping[str, Any], environ: Mapping[str, str]) -> SmtpSettings:
    defaults = SmtpSettings()
    return SmtpSettings(
        host=table.get("host", defaults.host),
        port=int(table.get("port", defaults.port)),
        starttls=bool(table.get("starttls", defaults.starttls)),
        username=table.get("username", defaults.username),
        password=environ.get(PASSWORD_ENV) or None,
        timeout=float(table.get("timeout", defaults.timeout)),
    )


def _adapters(table: Mapping[str, Any], project_dir: Path | None) -> tuple[AdapterSettings, ...]:
    adapters = []
    for name, spec in table.items():
        if name == SMTP_ADAPTER:
            raise config_error(
                f"adapters.{name}",
                f"{SMTP_ADAPTER!r} is the built-in email adapter's name; call this one otherwise",
            )
        path = None
        if "path" in spec:
            path = Path(spec["path"])
            if not path.is_absolute():
                path = (project_dir or Path.cwd()) / path
        adapters.append(
            AdapterSettings(name, spec["kind"], spec["channel"], path=path, url=spec.get("url"))
        )
    return tuple(adapters)


def parse_settings(
    table: Mapping[str, Any],
    *,
    project_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> CampaignSettings:
    """:class:`CampaignSettings` from a ``[plugins.campaign]`` table (already schema-checked).

    Relative adapter paths are resolved against ``project_dir``; the SMTP
    password comes from ``environ`` (default: ``os.environ``).
    """
    defaults = CampaignSettings()
    return CampaignSettings(
        sender=table.get("sender", defaults.sender),
        unsubscribe_url=table.get("unsubscribe_url", defaults.unsubscribe_url),
        attribution_window=dt.timedelta(
            days=int(table.get("attribution_window_days", defaults.attribution_window.days))
        ),
        bounce_threshold=int(table.get("bounce_threshold", defaults.bounce_threshold)),
        smtp=_smtp(table.get("smtp", {}), os.environ if environ is None else environ),
        throttle={channel: int(n) for channel, n in table.get("throttle", {}).items()},
        adapters=_adapters(table.get("adapters", {}), project_dir),
    )


def check_channels(settings: CampaignSettings, known: Mapping[str, Any]) -> None:
    """Refuse a throttle or an adapter on a channel that is not a registered consent channel."""
    names = ", ".join(sorted(known))
    for channel in settings.throttle:
        if channel not in known:
            raise config_error(
                f"throttle.{channel}", f"unknown channel {channel!r}; use one of {names}"
            )
    for adapter in settings.adapters:
        if adapter.channel not in known:
            raise config_error(
                f"adapters.{adapter.name}.channel",
                f"unknown channel {adapter.channel!r}; use one of {names}",
            )


def campaign_settings(crm: CRM) -> CampaignSettings:
    """The campaign settings of ``crm`` (read from its ``[plugins.campaign]`` table per call)."""
    return parse_settings(crm.settings.plugin(PLUGIN), project_dir=crm.settings.project_dir)
