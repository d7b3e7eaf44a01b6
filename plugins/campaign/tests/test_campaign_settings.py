"""Settings: the defaults, a full table from crmkit.toml, refused tables, the SMTP password."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from crmkit_campaign.settings import (
    PASSWORD_ENV,
    AdapterSettings,
    SmtpSettings,
    campaign_settings,
)

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError
from crmkit.testing.crm_factory import CrmFactory


def test_defaults_without_a_campaign_table(
    crm_factory: CrmFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    settings = campaign_settings(crm_factory(["campaign"]))
    assert settings.sender is None and settings.unsubscribe_url is None
    assert settings.attribution_window == dt.timedelta(days=30)
    assert settings.bounce_threshold == 3
    assert settings.smtp == SmtpSettings(
        host="localhost", port=25, starttls=False, username="", password=None, timeout=10.0
    )
    assert settings.throttle == {} and settings.adapters == ()


def test_sending_without_a_sender_or_unsubscribe_page_names_the_key(
    crm_factory: CrmFactory,
) -> None:
    settings = campaign_settings(crm_factory(["campaign"]))
    with pytest.raises(ConfigError, match=r"\[plugins.campaign\] sender: no From address"):
        settings.sender_for(None)
    assert settings.sender_for("offers@shop.example") == "offers@shop.example"
    with pytest.raises(ConfigError, match=r"\[plugins.campaign\] unsubscribe_url: not set"):
        settings.unsubscribe_base()


PROJECT_SETTINGS = """
[plugins.campaign]
sender = "news@shop.example"
unsubscribe_url = "https://shop.example/unsubscribe"
attribution_window_days = 14
bounce_threshold = 2

[plugins.campaign.smtp]
host = "mail.shop.example"
port = 587
starttls = true
username = "news"
timeout = 2.5

[plugins.campaign.throttle]
email = 600
sms = 30

[plugins.campaign.adapters.sms-file]
kind = "file"
channel = "sms"
path = "outbox/sms.jsonl"

[plugins.campaign.adapters.hooks]
kind = "webhook"
channel = "social"
url = "http://127.0.0.1:8080/send"
"""


def test_a_full_table_from_crmkit_toml(
    campaign_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    config = Path(campaign_project.path) / "crmkit.toml"
    text = config.read_text().split("[plugins.campaign]")[0]
    config.write_text(text + PROJECT_SETTINGS)
    with crmkit.open(campaign_project.path, strict=True) as crm:
        settings = campaign_settings(crm)
    assert settings.sender_for(None) == "news@shop.example"
    assert settings.unsubscribe_base() == "https://shop.example/unsubscribe"
    assert settings.attribution_window == dt.timedelta(days=14)
    assert settings.bounce_threshold == 2
    assert settings.smtp == SmtpSettings(
        host="mail.shop.example",
        port=587,
        starttls=True,
        username="news",
        password="s3cret",
        timeout=2.5,
    )
    assert settings.throttle == {"email": 600, "sms": 30}
    assert settings.adapters == (
        AdapterSettings(
            "sms-file",
            "file",
            "sms",
            path=Path(campaign_project.path).resolve() / "outbox" / "sms.jsonl",
        ),
        AdapterSettings("hooks", "webhook", "social", url="http://127.0.0.1:8080/send"),
    )


def test_the_password_is_read_from_the_environment_per_call(
    sqlite_crm: CRM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "first")
    assert campaign_settings(sqlite_crm).smtp.password == "first"
    monkeypatch.setenv(PASSWORD_ENV, "")
    assert campaign_settings(sqlite_crm).smtp.password is None
    monkeypatch.setenv(PASSWORD_ENV, "second")
    settings = campaign_settings(sqlite_crm)
    assert settings.smtp.password == "second"
    assert "second" not in repr(settings)


def test_a_password_in_crmkit_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open(
            f"sqlite:///{tmp_path / 'crm.db'}",
            plugins=["campaign"],
            plugin_settings={"campaign": {"smtp": {"password": "in-the-file"}}},
        )
    assert "[plugins.campaign] smtp: Additional properties are not allowed" in str(caught.value)


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"sender": "news"}, "sender"),
        ({"unsubscribe_url": "shop.example/unsubscribe"}, "unsubscribe_url"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"bounce_threshold": "three"}, "bounce_threshold"),
        ({"colour": "red"}, "(table)"),
        ({"smtp": {"port": 70000}}, "smtp.port"),
        ({"smtp": {"starttls": "yes"}}, "smtp.starttls"),
        ({"smtp": {"timeout": 0}}, "smtp.timeout"),
        ({"throttle": {"email": 0}}, "throttle.email"),
        ({"adapters": {"fax": {"kind": "fax", "channel": "post"}}}, "adapters.fax.kind"),
        ({"adapters": {"sms-file": {"kind": "file", "channel": "sms"}}}, "adapters.sms-file"),
        (
            {"adapters": {"hooks": {"kind": "webhook", "channel": "social", "url": "ftp://x"}}},
            "adapters.hooks.url",
        ),
    ],
)
def test_a_bad_table_stops_the_crm_from_opening(
    tmp_path: Path, table: dict[str, Any], where: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open(
            f"sqlite:///{tmp_path / 'crm.db'}",
            plugins=["campaign"],
            strict=True,
            plugin_settings={"campaign": table},
        )
    assert f"crmkit.toml [plugins.campaign] {where}:" in str(caught.value)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"throttle": {"pigeon": 5}}, "throttle.pigeon: unknown channel 'pigeon'; use one of"),
        (
            {"adapters": {"coop": {"kind": "file", "channel": "pigeon", "path": "out.jsonl"}}},
            "adapters.coop.channel: unknown channel 'pigeon'; use one of",
        ),
        (
            {"adapters": {"smtp": {"kind": "file", "channel": "email", "path": "out.jsonl"}}},
            "adapters.smtp: 'smtp' is the built-in email adapter's name",
        ),
    ],
)
def test_settings_a_schema_cannot_check_stop_the_crm_from_opening(
    tmp_path: Path, table: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open(
            f"sqlite:///{tmp_path / 'crm.db'}",
            plugins=["campaign"],
            plugin_settings={"campaign": table},
        )
    assert f"crmkit.toml [plugins.campaign] {words}" in str(caught.value)


def test_settings_are_read_again_for_each_crm(crm_factory: CrmFactory) -> None:
    quiet = crm_factory(["campaign"])
    busy = crm_factory(["campaign"], plugin_settings={"campaign": {"bounce_threshold": 1}})
    assert campaign_settings(busy).bounce_threshold == 1
    assert campaign_settings(quiet).bounce_threshold == 3


def test_the_smtp_fixture_points_the_settings_at_a_real_server(
    smtp_crm: CRM, smtp_server: Any
) -> None:
    import smtplib
    from email.message import EmailMessage

    smtp = campaign_settings(smtp_crm).smtp
    assert (smtp.host, smtp.port) == ("127.0.0.1", smtp_server.port)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "news@shop.example",
        "ada@example.com",
        "Hello",
    )
    message["Message-ID"] = "<one@crmkit>"
    message.set_content("Hi Ada")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        client.send_message(message)
        smtp_server.refuse("451 try again later")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(message)
    assert refused.value.smtp_code == 451
    (received,) = smtp_server.messages
    assert received["Message-ID"] == "<one@crmkit>"
    assert received.get_content().strip() == "Hi Ada"
    assert smtp_server.received[0].rcpt_tos == ["ada@example.com"]
