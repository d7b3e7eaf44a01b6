"""One test per hook specification, each proving the hook does what its docstring promises.

``test_every_hook_has_a_test`` fails when a hook is added to
``crmkit/plugins/hookspecs.py`` without a ``test_<hook name>`` here.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import pytest
import sqlalchemy as sa

import crmkit
from crmkit.cli import main
from crmkit.cli.project import migration_status
from crmkit.crm import CRM
from crmkit.entities import Contact
from crmkit.errors import ConfigError, DeliveryError, EventError, PluginError, ValidationError
from crmkit.events import Event, EventType
from crmkit.io.formats import SourceRow
from crmkit.io.importer import import_contacts
from crmkit.plugins import hookspecs
from crmkit.plugins.manager import collect
from crmkit.privacy import Channel, Decision, PolicyRequest, Purpose, SubjectFacts
from crmkit.project import write_project
from crmkit.storage.base import StorageBackend
from crmkit.storage.memory import MemoryBackend
from crmkit.storage.query import AllOf, Cond, Filter, Not, Query, Related
from crmkit.testing.plugin_site import PluginSite
from crmkit.view import ViewSection


def open_with(plugin: object, url: str = "memory://", **kwargs: Any) -> CRM:
    """A CRM with one in-process plugin named ``test``."""
    return crmkit.open(url, plugins=["test"], extra_plugins=[("test", plugin)], **kwargs)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    monkeypatch.delenv("CRMKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("CRMKIT_DISABLE_PLUGINS", raising=False)
    with PluginSite(tmp_path / "site", monkeypatch) as plugins:
        yield plugins


def test_every_hook_has_a_test() -> None:
    hooks = {name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)}
    hooks = {name for name in hooks if name.startswith("crmkit_")}
    tests = {
        name
        for name, _ in inspect.getmembers(sys.modules[__name__], inspect.isfunction)
        if name.startswith("test_")
    }
    assert len(hooks) >= 12
    assert sorted(h for h in hooks if f"test_{h}" not in tests) == []


# -- loading ------------------------------------------------------------------------


class AlertSettings:
    def crmkit_settings_schema(self) -> Mapping[str, Any]:
        return {
            "type": "object",
            "properties": {"threshold": {"type": "integer", "minimum": 1}},
            "required": ["threshold"],
        }


def test_crmkit_settings_schema() -> None:
    with open_with(AlertSettings(), plugin_settings={"test": {"threshold": 3}}) as crm:
        assert crm.settings.plugin("test") == {"threshold": 3}
    with pytest.raises(ConfigError, match=r"\[plugins\.test\] threshold") as caught:
        open_with(AlertSettings(), plugin_settings={"test": {"threshold": 0}})
    assert "minimum" in str(caught.value) or "less than" in str(caught.value)
    with pytest.raises(ConfigError, match=r"\[plugins\.test\] \(table\).*threshold"):
        open_with(AlertSettings(), plugin_settings={"test": {}})


@crmkit.entity("loyalty.account", description="Points a contact has collected.")
@attrs.define(kw_only=True)
class LoyaltyAccount(crmkit.Entity):
    contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
    points: int = crmkit.field(default=0, privacy="none", erase="delete")
    tier: str = crmkit.field(default="bronze", privacy="personal", erase="anonymise")


class LoyaltyTypes:
    def crmkit_register_entity_types(self) -> Sequence[type]:
        return [LoyaltyAccount]


def test_crmkit_register_entity_types() -> None:
    with open_with(LoyaltyTypes()) as crm:
        account = crm.entity_type("loyalty.account")
        assert (account.plugin, account.cls, account.table_name) == (
            "test", LoyaltyAccount, "loyalty_account",
        )
        tier = account.field("tier")
        assert (tier.spec.privacy, tier.spec.erase) == ("personal", "anonymise")
        assert account.field("contact_id").spec.ref == "contact"
        ada = crm.contacts.add(first_name="Ada")
        with crm.unit_of_work() as uow:
            uow.tx.add(account, account.to_row(LoyaltyAccount(contact_id=ada.id, points=5)))
        with crm.unit_of_work() as uow:
            [row] = uow.tx.query(account, Query(Cond("contact_id", "eq", ada.id)))
        assert account.from_row(row).points == 5

    class NotAnEntity:
        def crmkit_register_entity_types(self) -> Sequence[type]:
            return [dict]

    with pytest.raises(PluginError, match=r"plugin test: .*@crmkit\.entity"):
        open_with(NotAnEntity())


class LoyaltyFields:
    def crmkit_custom_fields(self) -> Mapping[str, Mapping[str, Any]]:
        return {"contact": {"properties": {"loyalty_tier": {"enum": ["bronze", "gold"]}}}}


def test_crmkit_custom_fields() -> None:
    project_fields = {"contact": {"properties": {"shirt": {"type": "string"}}}}
    with open_with(LoyaltyFields(), custom_fields=project_fields) as crm:
        ada = crm.contacts.add(first_name="Ada", custom={"loyalty_tier": "gold", "shirt": "M"})
        assert crm.contacts.get(ada.id).custom == {"loyalty_tier": "gold", "shirt": "M"}
        with pytest.raises(ValidationError, match="rule: enum") as caught:
            crm.contacts.add(first_name="Bob", custom={"loyalty_tier": "tin"})
        assert caught.value.field == "loyalty_tier"
    clash = {"contact": {"properties": {"loyalty_tier": {"type": "string"}}}}
    with pytest.raises(ConfigError, match=re.escape("defined by both plugin test and crmkit.toml")):
        open_with(LoyaltyFields(), custom_fields=clash)


class LoyaltyEvents:
    def crmkit_register_event_types(self) -> Sequence[EventType]:
        return [EventType("loyalty.points_added", version=3, description="Points were added.")]


def test_crmkit_register_event_types() -> None:
    with open_with(LoyaltyEvents()) as crm:
        assert crm.events.types["loyalty.points_added"].version == 3
        with crm.unit_of_work() as uow:
            uow.raise_event("loyalty.points_added", {"points": 5})
        [event] = crm.events.read(names=["loyalty.points_added"])
        assert (event.version, event.payload) == (3, {"points": 5})
        unknown = "loyalty.points_removed"
        with pytest.raises(EventError, match=re.escape(unknown)), crm.unit_of_work() as uow:
            uow.raise_event(unknown, {})


class Greeter:
    def __init__(self) -> None:
        self.registrations = 0
        self.greeted: list[str | None] = []

    def crmkit_register_subscribers(self) -> Sequence[tuple[str, Any]]:
        self.registrations += 1
        return [("contact.created", self.greet), ("organization.*", self.fail)]

    def greet(self, event: Event) -> None:
        self.greeted.append(event.subject_id)

    def fail(self, event: Event) -> None:
        raise LookupError("no greeting for companies")


def test_crmkit_register_subscribers() -> None:
    greeter = Greeter()
    with open_with(greeter) as crm:
        with crm.unit_of_work() as uow:
            ada = uow.contacts.add(first_name="Ada")
            assert greeter.greeted == []
        bob = crm.contacts.add(first_name="Bob")
        crm.organizations.add(name="Acme")
        assert greeter.greeted == [ada.id, bob.id]
        assert greeter.registrations == 1, "subscribers are resolved once, when the CRM opens"
        [failure] = crm.events.failures()
        assert failure.subscriber.startswith("test:") and failure.subscriber.endswith("fail")
        assert failure.error == "LookupError: no greeting for companies"


class FollowsLoyalty:
    """Subscribes to another plugin's event only when that plugin's types are registered."""

    def crmkit_register_subscribers(self, crm: CRM) -> list[tuple[str, Any]]:
        if "loyalty.points_awarded" not in crm.events.types:
            return []
        return [("loyalty.points_awarded", print)]


class AwardEvents:
    def crmkit_register_event_types(self) -> list[EventType]:
        return [EventType("loyalty.points_awarded")]


def test_crmkit_register_subscribers_sees_the_registered_event_types() -> None:
    alone = [("follower", FollowsLoyalty())]
    with crmkit.open("memory://", plugins=["follower"], extra_plugins=alone) as crm:
        assert not crm.events.bus.subscriptions_for("loyalty.points_awarded")
    both = [*alone, ("loyalty", AwardEvents())]
    with crmkit.open("memory://", plugins=["follower", "loyalty"], extra_plugins=both) as crm:
        [sub] = crm.events.bus.subscriptions_for("loyalty.points_awarded")
        assert sub.owner == "follower"


STAMPCARD_REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "stampcard_0001"
down_revision = None
branch_labels = ("stampcard",)
depends_on = "crmkit_0001"


def upgrade():
    op.create_table(
        "stampcard_account",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(36), nullable=False, index=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
    )


def downgrade():
    op.drop_table("stampcard_account")
'''

STAMPCARD_PLUGIN = '''
from pathlib import Path

from crmkit.migrations.runner import MigrationBranch


def crmkit_migrations():
    return [MigrationBranch("stampcard", str(Path(__file__).with_name("stampcard_migrations")))]
'''


def _install_stampcard_migrations(site: PluginSite) -> None:
    folder = site.root / "stampcard_migrations"
    folder.mkdir()
    (folder / "stampcard_0001_accounts.py").write_text(STAMPCARD_REVISION, encoding="utf-8")
    site.install("stampcard", STAMPCARD_PLUGIN)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_crmkit_migrations(
    site: PluginSite, tmp_path: Path, sql_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _install_stampcard_migrations(site)
    with crmkit.open(sql_url, plugins=["stampcard"]) as crm:
        status = {s["branch"]: (s["current"], s["up_to_date"]) for s in migration_status(crm)}
    assert status == {"crmkit": ("crmkit_0002", True), "stampcard": ("stampcard_0001", True)}
    assert {"stampcard_account", "contact"} <= _tables(sql_url)

    project = tmp_path / "shop"
    write_project(project, database="sqlite:///shop.db", plugins=["stampcard"])
    main(["--project", str(project), "db", "upgrade"])
    assert "Upgraded stampcard to stampcard_0001" in capsys.readouterr().out
    assert "stampcard_account" in _tables(f"sqlite:///{project / 'shop.db'}")
    main(["--project", str(project), "db", "upgrade"])
    assert "Already up to date." in capsys.readouterr().out


class SpyStore:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def crmkit_storage_backend(self, url: str) -> StorageBackend | None:
        self.urls.append(url)
        if url.startswith(("memory://spy", "spy://")):
            return MemoryBackend(url)
        return None


def test_crmkit_storage_backend() -> None:
    spy = SpyStore()
    with open_with(spy, "spy://tests") as crm:
        assert isinstance(crm.backend, MemoryBackend) and crm.backend.url == "spy://tests"
        crm.contacts.add(first_name="Ada")
        assert crm.contacts.count() == 1
    with open_with(spy, "memory://spy") as crm:
        assert crm.backend.url == "memory://spy"
    with open_with(spy, "memory://") as crm:
        assert isinstance(crm.backend, MemoryBackend), "the core's default still serves memory://"
    assert spy.urls == ["spy://tests", "memory://spy", "memory://"]
    with pytest.raises(ConfigError, match="no storage backend handles ftp://"):
        open_with(spy, "ftp://example.com/crm")


@attrs.define
class PipeImporter:
    """Reads ``first|last|email`` lines."""

    format: str = "psv"

    def read(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        for number, raw in enumerate(stream, start=1):
            first, last, email = raw.decode("utf-8").rstrip("\n").split("|")
            yield SourceRow(number, {"first_name": first, "last_name": last, "email": email})


class PipeFormat:
    def crmkit_register_importers(self) -> Sequence[PipeImporter]:
        return [PipeImporter()]


def test_crmkit_register_importers(tmp_path: Path) -> None:
    people = tmp_path / "people.psv"
    people.write_text("Ada|Lovelace|ada@example.com\nGrace|Hopper|grace@example.com\n")
    with open_with(PipeFormat()) as crm:
        report = import_contacts(crm, people)
        assert report.format == "psv"
        assert sorted(c.last_name or "" for c in crm.contacts.list()) == ["Hopper", "Lovelace"]
        assert crm.contacts.get("grace@example.com").first_name == "Grace"
        import_contacts(crm, io.BytesIO(b"first_name\nAlan\n"), format="csv")
        assert crm.contacts.count() == 3, "the core's formats stay available"


@attrs.define
class PipeExporter:
    format: str = "psv"
    binary: bool = False

    def write(
        self, records: Iterator[Mapping[str, Any]], fields: Sequence[str], stream: IO[str]
    ) -> int:
        count = 0
        for record in records:
            stream.write("|".join(str(record.get(f) or "") for f in fields) + "\n")
            count += 1
        return count


class PipeOut:
    def crmkit_register_exporters(self) -> Sequence[PipeExporter]:
        return [PipeExporter()]


def test_crmkit_register_exporters() -> None:
    with open_with(PipeOut()) as crm:
        crm.contacts.add(first_name="Ada", email="ada@example.com")
        exporters = {
            exporter.format: (plugin, exporter)
            for plugin, items in collect(crm.pm, "crmkit_register_exporters")
            for exporter in items
        }
        assert {"csv", "jsonl", "psv"} <= set(exporters)
        plugin, exporter = exporters["psv"]
        assert plugin == "test"
        out = io.StringIO()
        rows = [attrs.asdict(c) for c in crm.contacts.list()]
        assert exporter.write(iter(rows), ["first_name", "email"], out) == 1
        assert out.getvalue() == "Ada|ada@example.com\n"


class Configured:
    def __init__(self) -> None:
        self.seen: list[tuple[CRM, Mapping[str, Any]]] = []

    def crmkit_configure(self, crm: CRM) -> None:
        self.seen.append((crm, crm.settings.plugin("test")))


def test_crmkit_configure() -> None:
    early = Configured()
    with open_with(early, plugin_settings={"test": {"greeting": "hello"}}) as crm:
        assert early.seen == [(crm, {"greeting": "hello"})]
        late = Configured()
        crm.pm.register(late, name="late")
        assert [seen for seen, _ in late.seen] == [crm], "a plugin registered later is configured"
        assert len(early.seen) == 1


class RefusesToOpen:
    """A plugin that refuses its settings when configured, on a backend counting closes."""

    def __init__(self) -> None:
        self.backend = ClosingMemory()

    def crmkit_storage_backend(self, url: str) -> StorageBackend:
        return self.backend

    def crmkit_configure(self, crm: CRM) -> None:
        raise ConfigError("[plugins.test] default_pipeline names no pipeline")


class ClosingMemory(MemoryBackend):
    closed = 0

    def close(self) -> None:
        self.closed += 1
        super().close()


def test_crmkit_configure_failure_closes_the_database() -> None:
    plugin = RefusesToOpen()
    with pytest.raises(ConfigError, match="default_pipeline"):
        open_with(plugin)
    assert plugin.backend.closed == 1


COMMANDS_PLUGIN = '''
import click

from crmkit.cli.context import get_crm


@click.group("stampcard")
def stampcard_group():
    """Stamp cards."""


@stampcard_group.command("members")
@click.argument("greeting")
def members(greeting):
    """Greet the members."""
    click.echo(f"{greeting}, {get_crm().contacts.count()} members")


def crmkit_register_commands():
    return [stampcard_group]
'''


def test_crmkit_register_commands(
    site: PluginSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("stampcard", COMMANDS_PLUGIN)
    project = tmp_path / "shop"
    write_project(project, database=f"sqlite:///{tmp_path / 'shop.db'}", plugins=["stampcard"])
    with crmkit.open(project) as crm:
        crm.contacts.add(first_name="Ada")
    main(["--project", str(project), "stampcard", "members", "Hello"])
    assert capsys.readouterr().out == "Hello, 1 members\n"
    main(["--project", str(project), "stampcard", "--help"])
    help_text = capsys.readouterr().out
    assert "Stamp cards." in help_text and "Greet the members." in help_text


class VipSection:
    def crmkit_customer_view(self, crm: CRM, contact: Contact, actor: str | None) -> ViewSection:
        return ViewSection("VIP", {"name": contact.display_name, "asked_by": actor})


class ShortSection:
    def crmkit_customer_view(self, contact: Contact) -> ViewSection | None:
        return ViewSection("Short", {"id": contact.id}) if "short" in contact.tags else None


def test_crmkit_customer_view() -> None:
    plugins = [("vip", VipSection()), ("short", ShortSection())]
    with crmkit.open("memory://", plugins=["vip", "short"], extra_plugins=plugins) as crm:
        ada = crm.contacts.add(first_name="Ada", last_name="Lovelace", tags=["short"])
        bob = crm.contacts.add(first_name="Bob")
        sections = {s.plugin: s for s in crm.view(ada.id, actor="alice").sections}
        assert sections["vip"] == ViewSection(
            "VIP", {"name": "Ada Lovelace", "asked_by": "alice"}, "vip"
        )
        assert sections["short"].data == {"id": ada.id}
        assert [s.plugin for s in crm.view(bob.id).sections] == ["vip"]


# -- privacy ---------------------------------------------------------------------------


class NoNightCalls:
    """A plugin rule: nobody is phoned for sales when the contact is tagged 'night-shift'."""

    def crmkit_privacy_rules(self) -> Sequence[Any]:
        def rule(request: PolicyRequest, facts: SubjectFacts) -> Decision | None:
            if request.action == "contact" and request.channel == "phone":
                return Decision.deny("works nights; call only by appointment", "no-night-calls")
            return None

        return [rule]


def test_crmkit_privacy_rules() -> None:
    with open_with(NoNightCalls()) as crm:
        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        phone = crm.privacy.may_contact(ada.id, "sales", "phone")
        assert (phone.allowed, phone.rule) == (False, "no-night-calls")
        assert phone.reason == "works nights; call only by appointment"
        # The plugin's rule abstains elsewhere; the core's rules still apply.
        assert crm.privacy.may_contact(ada.id, "sales", "email").allowed
        assert not crm.privacy.may_contact(ada.id, "marketing", "email").allowed


class WellnessVocabulary:
    def crmkit_consent_purposes(self) -> Sequence[Purpose]:
        return [Purpose("wellness_tips", "Health tips by a clinic.", needs_opt_in=True)]

    def crmkit_consent_channels(self) -> Sequence[Channel]:
        return [Channel("patient_portal", "Messages in the patient portal.")]


def test_crmkit_consent_purposes() -> None:
    with open_with(WellnessVocabulary()) as crm:
        assert {"marketing", "sales", "service", "analytics", "wellness_tips"} <= set(
            crm.privacy.purposes
        )
        ada = crm.contacts.add(first_name="Ada")
        # A plugin purpose that needs an opt-in is enforced like marketing.
        tips = crm.privacy.may_contact(ada.id, "wellness_tips", "email")
        assert not tips.allowed and "no opt-in for wellness_tips on email" in tips.reason
    with crmkit.open("memory://", plugins=[]) as plain, pytest.raises(ValidationError) as caught:
        plain.privacy.check_purpose("wellness_tips")
    assert "unknown purpose 'wellness_tips'" in str(caught.value)


def test_crmkit_consent_channels() -> None:
    with open_with(WellnessVocabulary()) as crm:
        assert {"email", "sms", "phone", "post", "social", "in_person", "patient_portal"} <= set(
            crm.privacy.channels
        )
        ada = crm.contacts.add(first_name="Ada")
        assert crm.privacy.may_contact(ada.id, "service", "patient_portal").allowed
    with crmkit.open("memory://", plugins=[]) as plain, pytest.raises(ValidationError) as caught:
        plain.privacy.check_channel("patient_portal")
    assert "unknown channel 'patient_portal'" in str(caught.value)

    class BadChannels:
        def crmkit_consent_channels(self) -> Sequence[str]:
            return ["carrier_pigeon"]

    with pytest.raises(PluginError, match="plugin test: crmkit_consent_channels must return"):
        open_with(BadChannels())


# -- reaching people -----------------------------------------------------------------


def _bought_within(params: Mapping[str, Any]) -> Filter:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=int(params.get("days", 90)))
    return Related(
        "interaction",
        "contact_id",
        AllOf((Cond("kind", "eq", "purchase"), Cond("occurred_at", "ge", since))),
    )


class Buyers:
    def crmkit_segment_conditions(self) -> Sequence[crmkit.SegmentCondition]:
        return [
            crmkit.SegmentCondition(
                name="test.bought_recently",
                description="Contacts who bought something in the last N days.",
                params_schema={
                    "type": "object",
                    "properties": {"days": {"type": "integer", "minimum": 1}},
                    "additionalProperties": False,
                },
                build=_bought_within,
            ),
            crmkit.SegmentCondition(
                name="test.tagged_vip",
                description="Contacts tagged vip.",
                build=lambda params: Cond("tags", "has", "vip"),
            ),
        ]


class OtherBuyers:
    def crmkit_segment_conditions(self) -> Sequence[crmkit.SegmentCondition]:
        return [crmkit.SegmentCondition("test.bought_recently", "Same name.", _bought_within)]


def test_crmkit_segment_conditions() -> None:
    with open_with(Buyers()) as crm:
        conditions = crm.segment_conditions()
        assert sorted(conditions) == ["test.bought_recently", "test.tagged_vip"]
        assert conditions["test.tagged_vip"].params_schema == {
            "type": "object", "additionalProperties": False,
        }
        ada = crm.contacts.add(first_name="Ada", tags=["vip"])
        grace = crm.contacts.add(first_name="Grace")
        crm.contacts.add(first_name="Mary")
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
        crm.interactions.log(grace.id, channel="in_person", kind="purchase")
        crm.interactions.log(ada.id, channel="in_person", kind="purchase", occurred_at=long_ago)
        crm.interactions.log(ada.id, channel="email", kind="note")

        recent = conditions["test.bought_recently"].build({"days": 30})
        assert [c.first_name for c in crm.contacts.list([recent])] == ["Grace"]
        yearly = conditions["test.bought_recently"].build({"days": 500})
        assert crm.contacts.count([yearly]) == 2
        vip = conditions["test.tagged_vip"].build({})
        assert [c.first_name for c in crm.contacts.list([vip, Not(recent)])] == ["Ada"]

    with crmkit.open(
        "memory://",
        plugins=["test", "other"],
        extra_plugins=[("test", Buyers()), ("other", OtherBuyers())],
    ) as crm, pytest.raises(PluginError) as caught:
        crm.segment_conditions()
    assert "'test.bought_recently' is offered by both" in str(caught.value)
    assert {"test", "other"} <= set(re.findall(r"\w+", str(caught.value)))


@attrs.define
class FileOutbox:
    """Delivers messages by keeping them: what an adapter for tests does."""

    name: str
    channel: str
    sent: list[crmkit.OutboundMessage] = attrs.field(factory=list)

    def send(self, message: crmkit.OutboundMessage) -> str:
        if message.to.endswith(".invalid"):
            raise DeliveryError(f"{message.to}: no such address", permanent=True)
        self.sent.append(message)
        return f"file-{len(self.sent)}"


class Outboxes:
    def __init__(self, *adapters: FileOutbox) -> None:
        self.adapters = adapters

    def crmkit_outbound_channels(self, crm: CRM) -> Sequence[crmkit.OutboundChannel]:
        return list(self.adapters)


def test_crmkit_outbound_channels() -> None:
    mail = FileOutbox("mail-file", "email")
    with open_with(Outboxes(mail, FileOutbox("sms-file", "sms"))) as crm:
        adapters = crm.outbound_channels()
        assert {name: a.channel for name, a in adapters.items()} == {
            "mail-file": "email", "sms-file": "sms",
        }
        message = crmkit.OutboundMessage(
            message_id="m-1", contact_id="c-1", to="ada@example.com", subject="Hello",
            body="Hi Ada", headers={"List-Unsubscribe": "<https://example.com/u>"},
            channel="email",
        )
        assert adapters["mail-file"].send(message) == "file-1"
        assert mail.sent == [message]
        with pytest.raises(DeliveryError) as caught:
            adapters["mail-file"].send(attrs.evolve(message, to="ada@example.invalid"))
        assert caught.value.permanent is True

    with open_with(Outboxes(FileOutbox("pigeon", "carrier-pigeon"))) as crm, pytest.raises(
        PluginError, match="'pigeon' delivers on unknown channel 'carrier-pigeon'"
    ):
        crm.outbound_channels()
    twice = Outboxes(FileOutbox("mail-file", "email"), FileOutbox("mail-file", "sms"))
    with open_with(twice) as crm, pytest.raises(
        PluginError, match="'mail-file' is offered by both test and test"
    ):
        crm.outbound_channels()


# -- demo ------------------------------------------------------------------------------

LEDGER_DEMO = '''
import random


def crmkit_demo_data(crm, demo):
    picked = random.Random(demo.seed).sample(demo.contact_ids, 3)
    for contact_id in [demo.featured_contact, *picked]:
        crm.interactions.log(contact_id, channel="system", kind="ledger_entry", source="ledger")
    return f"{len(picked) + 1} ledger entries"
'''

AUDIT_DEMO = '''
def crmkit_demo_data(crm, demo):
    # Runs after the plugin it requires, so the ledger's entries are already there.
    entries = crm.interactions.timeline(demo.featured_contact, channel="system")
    return f"audited {len(entries)} ledger entry of the featured contact"
'''


def test_crmkit_demo_data(
    site: PluginSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site.install("audit-demo", AUDIT_DEMO, requires=["crmkit>=0.1", "crmkit-ledger>=0.1"])
    site.install("ledger", LEDGER_DEMO)
    monkeypatch.setenv("CRMKIT_LOAD_PLUGINS", "ledger,audit-demo")
    folder = tmp_path / "demo"
    main(["demo", str(folder), "--contacts", "30", "--organizations", "5", "--seed", "3"])
    out = capsys.readouterr().out
    assert "  ledger: 4 ledger entries\n" in out
    assert "  audit-demo: audited 1 ledger entry of the featured contact\n" in out
    # The featured contact's single view, printed after the plugins ran, shows their data.
    assert "ledger_entry" in out.split("Single customer view of", 1)[1]
    with crmkit.open(folder) as crm, crm.backend.read() as reader:
        logged = reader.count(crm.entity_type("interaction"), Cond("source", "eq", "ledger"))
    assert logged == 4
