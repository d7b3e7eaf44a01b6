"""``crmkit campaign segment``: the commands as a user types them, with output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.testing.cli_runner import CliRunner
from crmkit.testing.project import CrmkitProject

PARIS_READERS = json.dumps(
    {"all": [
        {"field": "city", "op": "eq", "value": "Paris"},
        {"field": "tags", "op": "has", "value": "newsletter"},
    ]}
)


@pytest.fixture
def cli(crmkit_project: CrmkitProject, crmkit_cli: CliRunner) -> CliRunner:
    """``crmkit`` in a project with the campaign plugin and three contacts."""
    crmkit_project.with_plugins("campaign")
    for first, last, email, city, tags in [
        ("Ada", "Lovelace", "ada@example.com", "Paris", ["newsletter"]),
        ("Bob", "Byte", "bob@example.com", "Paris", []),
        ("Cy", "Cable", "cy@example.com", "Lyon", ["newsletter"]),
    ]:
        args = ["contacts", "add", "--first-name", first, "--last-name", last,
                "--email", email, "--city", city]
        for tag in tags:
            args += ["--tag", tag]
        added = crmkit_cli(*args)
        assert added.exit_code == 0, added.output
    return crmkit_cli


def test_create_list_show_and_preview_a_dynamic_segment(cli: CliRunner) -> None:
    made = cli("campaign", "segment", "create", "paris-readers", "--rules", PARIS_READERS,
               "--description", "Newsletter readers in Paris")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("Created dynamic segment paris-readers (")

    listed = cli("campaign", "segment", "list")
    assert listed.exit_code == 0, listed.output
    header, _rule, row = listed.output.splitlines()
    assert header.split()[:3] == ["NAME", "KIND", "SNAPSHOT"]
    assert row.split()[:2] == ["paris-readers", "dynamic"]
    assert "Newsletter readers in Paris" in row
    assert [s["name"] for s in cli("campaign", "segment", "list", "--json").json()] == [
        "paris-readers"
    ]

    shown = cli("campaign", "segment", "show", "paris-readers", "--json").json()
    assert shown["count"] == 1
    assert shown["rules"] == json.loads(PARIS_READERS)
    text = cli("campaign", "segment", "show", "paris-readers").output
    assert ["members", "1"] in [line.split() for line in text.splitlines()]
    assert '"value": "newsletter"' in text

    preview = cli("campaign", "segment", "preview", "paris-readers")
    assert preview.exit_code == 0, preview.output
    lines = preview.output.splitlines()
    assert lines[0] == "1 contact matches segment paris-readers"
    assert "Ada Lovelace" in lines[3] and "ada@example.com" in lines[3]

    data = cli("campaign", "segment", "preview", "paris-readers", "--json").json()
    assert data["count"] == 1
    assert [c["email"] for c in data["sample"]] == ["ada@example.com"]


def test_a_static_segment_from_a_toml_file_and_its_snapshots(
    cli: CliRunner, tmp_path: Path
) -> None:
    rules = tmp_path / "readers.toml"
    rules.write_text('field = "tags"\nop = "has"\nvalue = "newsletter"\n', encoding="utf-8")
    made = cli("campaign", "segment", "create", "readers", "--rules", f"@{rules}", "--static")
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[0].startswith("Created static segment readers (")
    assert made.output.splitlines()[1].startswith("2 members (snapshot at ")

    added = cli("contacts", "add", "--first-name", "Dee", "--email", "dee@example.com",
                "--tag", "newsletter")
    assert added.exit_code == 0, added.output
    assert cli("campaign", "segment", "preview", "readers", "--json").json()["count"] == 2

    again = cli("campaign", "segment", "snapshot", "readers")
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Segment readers: 3 members (+1, -0)"
    preview = cli("campaign", "segment", "preview", "readers", "--sample", "1", "--json").json()
    assert preview["count"] == 3
    # By last name, first name; Dee has no last name, and no value sorts first.
    assert [c["first_name"] for c in preview["sample"]] == ["Dee"]


def test_bad_input_ends_with_a_clear_error_and_exit_code(cli: CliRunner) -> None:
    bad_field = cli("campaign", "segment", "create", "x", "--rules",
                    '{"field": "town", "value": "Paris"}')
    assert bad_field.exit_code == 4
    assert "unknown contact field 'town'" in bad_field.output

    not_rules = cli("campaign", "segment", "create", "x", "--rules", "city = ")
    assert not_rules.exit_code == 4
    assert "neither JSON nor TOML" in not_rules.output

    missing_file = cli("campaign", "segment", "create", "x", "--rules", "@nowhere.json")
    assert missing_file.exit_code == 4
    assert "cannot read nowhere.json" in missing_file.output

    assert cli("campaign", "segment", "list", "--json").json() == []

    unknown = cli("campaign", "segment", "show", "nobody")
    assert unknown.exit_code == 3
    assert "'nobody' not found" in unknown.output

    assert cli("campaign", "segment", "create", "paris", "--rules",
               '{"field": "city", "value": "Paris"}').exit_code == 0
    dynamic = cli("campaign", "segment", "snapshot", "paris")
    assert dynamic.exit_code == 4
    assert "is dynamic" in dynamic.output
