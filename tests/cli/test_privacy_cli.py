"""``crmkit privacy export|erase|restrict|rectify|check``."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.cli.conftest import Cli

CARELESS = """
    import attrs
    import crmkit

    @crmkit.entity("careless.note")
    @attrs.define(kw_only=True)
    class Note(crmkit.Entity):
        contact_id: str = crmkit.field(ref="contact", privacy="personal", erase="delete")
        text: str = crmkit.field()

    def crmkit_register_entity_types():
        return [Note]
"""


def _ada(cli: Cli) -> str:
    added = cli(
        "contacts",
        "add",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--email",
        "ada@example.com",
        "--phone",
        "+442071234567",
        "--json",
    )
    assert added.code == 0, added.err
    cli("orgs", "add", "Engines")
    cli("contacts", "link", "ada@example.com", "Engines", "--role", "CTO")
    cli("log", "ada@example.com", "--channel", "email", "--summary", "Asked for pricing")
    return str(added.json()["id"])


def test_export_prints_the_bundle_or_writes_it_to_a_file(any_cli: Cli, tmp_path: Path) -> None:
    ada = _ada(any_cli)
    printed = any_cli("privacy", "export", "ada@example.com")
    assert printed.code == 0, printed.err
    bundle = printed.json()
    assert bundle["contact_id"] == ada
    assert bundle["records"]["contact"][0]["last_name"] == "Lovelace"
    assert [a["role"] for a in bundle["records"]["affiliation"]] == ["CTO"]
    assert [i["summary"] for i in bundle["records"]["interaction"]] == ["Asked for pricing"]

    target = tmp_path / "ada.json"
    written = any_cli("privacy", "export", ada, "-o", str(target))
    assert written.code == 0, written.err
    assert str(target) in written.out and "Lovelace" not in written.out
    assert json.loads(target.read_text())["records"]["interaction"][0]["summary"] == (
        "Asked for pricing"
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_unknown_contacts_exit_3(cli: Cli) -> None:
    for args in (
        ("export", "nobody@example.com"),
        ("erase", "nobody@example.com", "--yes"),
        ("restrict", "nobody@example.com", "--reason", "x"),
        ("rectify", "nobody@example.com", "--set", "city=London"),
    ):
        result = cli("privacy", *args)
        assert result.code == 3, args
        assert "nobody@example.com" in result.err and "contacts search" in result.err


def test_erase_dry_run_shows_the_plan_and_writes_nothing(cli: Cli) -> None:
    ada = _ada(cli)
    before = cli("privacy", "export", ada).json()["records"]
    result = cli("privacy", "erase", "ada@example.com", "--dry-run")
    assert result.code == 0, result.err
    out = result.out
    assert "Erasing Ada Lovelace <ada@example.com>" in out
    assert "affiliation" in out and "interaction" in out
    assert "contact: first_name, last_name, email, phone" in out
    assert "Kept under legal hold:" in out and "privacy.audit.subject_id" in out
    assert "Dry run: nothing was changed." in out
    after = cli("privacy", "export", ada).json()["records"]
    # The first export's own audit entry is the only one: the dry run wrote none.
    assert [e["action"] for e in after.pop("privacy.audit")] == ["privacy.export"]
    before.pop("privacy.audit")
    assert after == before

    plan = cli("privacy", "erase", ada, "--dry-run", "--json").json()
    assert plan["done"] is False and plan["suppressed"] == ["email", "phone"]
    assert {e["entity"]: e["deleted"] for e in plan["entities"]}["interaction"] == 1


def test_erase_asks_first_and_no_means_nothing_is_erased(cli: Cli) -> None:
    _ada(cli)
    refused = cli("privacy", "erase", "ada@example.com", input="n\n")
    assert refused.code == 1
    assert "This cannot be undone" in refused.err and "Nothing erased." in refused.err
    unanswered = cli("privacy", "erase", "ada@example.com")
    assert unanswered.code == 1 and "pass --yes" in unanswered.err
    assert cli("contacts", "show", "ada@example.com").code == 0

    done = cli("privacy", "erase", "ada@example.com", input="y\n")
    assert done.code == 0, done.err
    assert "2 records deleted, 1 anonymised" in done.out
    assert cli("contacts", "show", "ada@example.com").code == 3


def test_erase_with_yes_then_again_says_already_erased(any_cli: Cli) -> None:
    ada = _ada(any_cli)
    done = any_cli("privacy", "erase", ada, "--yes", "--json")
    assert done.code == 0, done.err
    assert done.json()["done"] is True
    again = any_cli("privacy", "erase", ada, "--yes")
    assert again.code == 0, again.err
    assert f"contact {ada} was already erased on" in again.out
    assert "nothing is left to erase" in again.out
    by_email = any_cli("privacy", "erase", "ada@example.com", "--yes")
    assert by_email.code == 3
    assert "belonged to a person who was already erased" in by_email.err
    assert "name the erased contact by id" in by_email.err
    shell = any_cli("contacts", "show", ada, "--json").json()
    assert shell["email"] is None and shell["last_name"] is None


def test_restrict_and_lift(cli: Cli) -> None:
    ada = _ada(cli)
    missing = cli("privacy", "restrict", ada)
    assert missing.code == 2 and "--reason" in missing.err

    restricted = cli("privacy", "restrict", "ada@example.com", "--reason", "disputes accuracy")
    assert restricted.code == 0, restricted.err
    assert f"Restricted processing of contact {ada} (disputes accuracy)" in restricted.out
    blocked = cli("contacts", "update", ada, "--city", "London")
    assert blocked.code == 7 and "restricted" in blocked.err

    state = cli("privacy", "restrict", ada, "--lift", "--json").json()
    assert state == {"contact_id": ada, "restricted": False, "reason": None, "erased_at": None}
    assert "was not restricted; nothing changed" in cli("privacy", "restrict", ada, "--lift").out
    assert cli("contacts", "update", ada, "--city", "London").code == 0


def test_rectify_sets_fields_while_restricted(cli: Cli) -> None:
    ada = _ada(cli)
    cli("privacy", "restrict", ada, "--reason", "disputes accuracy")
    fixed = cli("privacy", "rectify", ada, "--set", "last_name=King", "--set", "city=London")
    assert fixed.code == 0, fixed.err
    assert "Rectified contact Ada King <ada@example.com>" in fixed.out
    shown = cli("privacy", "rectify", ada, "--unset", "city", "--json").json()
    assert (shown["last_name"], shown["city"]) == ("King", None)

    bad = cli("privacy", "rectify", ada, "--set", "email=not-an-email")
    assert bad.code == 4 and "email" in bad.err
    unknown = cli("privacy", "rectify", ada, "--set", "shoe_size=9")
    assert unknown.code == 4 and "shoe_size" in unknown.err
    nothing = cli("privacy", "rectify", ada)
    assert nothing.code == 2 and "--set" in nothing.err


def test_check_passes_for_the_core(cli: Cli) -> None:
    result = cli("privacy", "check")
    assert result.code == 0, result.err
    assert result.out.startswith("ok: ") and "entity types" in result.out
    report = cli("privacy", "check", "--json").json()
    assert report["ok"] is True and report["problems"] == []
    assert report["fields"] > report["entity_types"] > 0


def test_check_fails_naming_each_undeclared_field(
    install_plugin: Callable[..., str], make_project: Callable[..., Cli]
) -> None:
    install_plugin("careless", CARELESS)
    cli = make_project("--plugin", "careless")
    result = cli("privacy", "check")
    assert result.code == 4
    assert result.out.splitlines() == [
        'careless.note.text (careless): no privacy class; declare privacy="none", "personal" '
        'or "sensitive" in crmkit.field(...)',
        'careless.note.text (careless): no erasure strategy; declare erase="delete", '
        '"anonymise" or "keep" in crmkit.field(...)',
    ]
    report = cli("privacy", "check", "--json")
    assert report.code == 4
    assert [(p["entity"], p["field"]) for p in report.json()["problems"]] == [
        ("careless.note", "text"),
        ("careless.note", "text"),
    ]
