"""How a plugin's section of the customer view reads on the command line."""

from __future__ import annotations

import pytest

from crmkit.cli.timeline import echo_section_data


def test_nested_records_read_inline_and_lists_of_records_as_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    echo_section_data(
        {
            "won": 2,
            "last_quote": {"quote": "Q-00001v2", "status": "sent", "notes": None},
            "open_deals": [
                {"title": "Engine", "stage": "quote", "amount": "12,500.00 EUR"},
                {"title": "Loom", "stage": "lead", "amount": "300.00 EUR"},
            ],
            "tags": ["vip", "b2b"],
        }
    )
    assert capsys.readouterr().out.splitlines() == [
        "won         2",
        "last_quote  quote Q-00001v2, status sent",
        "tags        vip, b2b",
        "open_deals:",
        "  TITLE   STAGE  AMOUNT",
        "  ------  -----  -------------",
        "  Engine  quote  12,500.00 EUR",
        "  Loom    lead   300.00 EUR",
    ]


def test_a_list_of_records_alone_is_one_table_and_an_empty_section_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    echo_section_data([{"key": "T-1", "due_at": "2026-12-07"}])
    echo_section_data({})
    assert capsys.readouterr().out.splitlines() == [
        "KEY  DUE AT",
        "---  ----------",
        "T-1  2026-12-07",
        "nothing",
    ]
