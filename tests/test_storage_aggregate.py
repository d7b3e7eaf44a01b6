"""Grouped aggregates beyond the backend contract: describing them, using them from a
unit of work, statement reuse, and SQL agreeing with a plain computation over the rows."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql

import crmkit
from crmkit.crm import CRM
from crmkit.entities.types import EntityType
from crmkit.errors import DatabaseError, ValidationError
from crmkit.storage import Aggregate, Cond, GroupKey, Measure
from crmkit.storage.sql.aggregates import aggregate_select
from crmkit.testing.contract import CONTRACT_PLUGIN, ContractPlugin, ContractRecord

# -- describing an aggregate ---------------------------------------------------------


def test_group_key_names_default_to_the_field_and_its_part() -> None:
    assert GroupKey("stage").key == "stage"
    assert GroupKey("closed_on", "month").key == "closed_on_month"
    assert GroupKey("closed_on", "year", name="year").key == "year"


def test_the_default_aggregate_counts_records() -> None:
    assert Aggregate().measures == (Measure("count", "count"),)


def test_lists_are_accepted_for_group_keys_and_measures() -> None:
    built = Aggregate(group_by=[GroupKey("stage")], measures=[Measure("n", "count")])
    assert built == Aggregate(group_by=(GroupKey("stage"),), measures=(Measure("n", "count"),))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Measure("total", "sum"), "measure 'total': sum needs a field"),
        (
            lambda: Measure("x", "median", "amount"),  # type: ignore[arg-type]
            "unknown function 'median'",
        ),
        (
            lambda: GroupKey("closed_on", "week"),  # type: ignore[arg-type]
            "unknown date part 'week'",
        ),
        (
            lambda: Aggregate(group_by=(GroupKey("stage"),), measures=(Measure("stage", "count"),)),
            "named 'stage'",
        ),
        (lambda: Aggregate(measures=()), "at least one measure or group key"),
    ],
    ids=["sum without field", "unknown function", "unknown part", "clashing names", "empty"],
)
def test_a_malformed_aggregate_is_refused_when_built(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_group_keys_without_measures_list_the_distinct_values(crm_with_records: CRM) -> None:
    with crm_with_records.backend.read() as reader:
        distinct_names = Aggregate(group_by=(GroupKey("name"),), measures=())
        got = reader.aggregate(_rtype(crm_with_records), distinct_names)
    assert got == [{"name": None}, {"name": "Ada"}, {"name": "Grace"}]


# -- from a unit of work, on every backend ---------------------------------------------


@pytest.fixture
def crm_with_records(any_url: str) -> Iterator[CRM]:
    """A CRM with the contract's record type and five records in it."""
    with crmkit.open(
        any_url,
        plugins=[CONTRACT_PLUGIN],
        extra_plugins=[(CONTRACT_PLUGIN, ContractPlugin())],
        strict=True,
    ) as crm:
        rtype = _rtype(crm)
        values: list[dict[str, Any]] = [
            {"code": "1", "name": "Ada", "rank": 1, "amount": decimal.Decimal("1.10")},
            {"code": "2", "name": "Ada", "rank": 2, "amount": decimal.Decimal("2.20")},
            {"code": "3", "name": "Grace", "rank": 4, "amount": None},
            {"code": "4", "name": None, "rank": None, "amount": decimal.Decimal("0.01")},
            {"code": "5", "name": "Grace", "rank": 8, "amount": decimal.Decimal("-3.30")},
        ]
        with crm.unit_of_work("tester") as uow:
            uow.tx.add_many(rtype, [rtype.to_row(ContractRecord(**v)) for v in values])
        yield crm


def _rtype(crm: CRM) -> EntityType:
    return crm.entity_type("contract.record")


def test_a_unit_of_work_aggregates_its_records(crm_with_records: CRM) -> None:
    rtype = _rtype(crm_with_records)
    by_name = Aggregate(
        group_by=(GroupKey("name"),),
        measures=(Measure("n", "count"), Measure("total", "sum", "amount")),
    )
    with crm_with_records.unit_of_work("tester") as uow:
        got = uow.tx.aggregate(rtype, by_name)
    assert got == [
        {"name": None, "n": 1, "total": decimal.Decimal("0.01")},
        {"name": "Ada", "n": 2, "total": decimal.Decimal("3.30")},
        {"name": "Grace", "n": 2, "total": decimal.Decimal("-3.30")},
    ]


def test_the_same_shape_with_other_names_and_values_gives_its_own_keys(
    crm_with_records: CRM,
) -> None:
    rtype = _rtype(crm_with_records)

    def ranks(name: str, key: str, measure: str) -> list[dict[str, Any]]:
        wanted = Aggregate(
            where=Cond("name", "eq", name),
            group_by=(GroupKey("name", name=key),),
            measures=(Measure(measure, "sum", "rank"),),
        )
        with crm_with_records.backend.read() as reader:
            return reader.aggregate(rtype, wanted)

    assert ranks("Ada", "who", "ranks") == [{"who": "Ada", "ranks": 3}]
    assert ranks("Grace", "person", "total") == [{"person": "Grace", "total": 12}]
    assert ranks("Nobody", "who", "ranks") == []


def test_a_refused_aggregate_names_the_type_and_the_field(crm_with_records: CRM) -> None:
    wanted = Aggregate(group_by=(GroupKey("amount", "day"),))
    with (
        pytest.raises(ValidationError, match=r"contract\.record: field 'amount': only a date"),
        crm_with_records.backend.read() as reader,
    ):
        reader.aggregate(_rtype(crm_with_records), wanted)


def test_a_decimal_sum_past_sqlite_integers_fails_instead_of_clamping(tmp_path: Path) -> None:
    with crmkit.open(
        f"sqlite:///{tmp_path / 'crm.db'}",
        plugins=[CONTRACT_PLUGIN],
        extra_plugins=[(CONTRACT_PLUGIN, ContractPlugin())],
        strict=True,
    ) as crm:
        rtype = _rtype(crm)
        huge = ContractRecord(code="huge", amount=decimal.Decimal("10000000000000"))
        with crm.backend.begin() as tx:
            tx.add(rtype, rtype.to_row(huge))
        total = Aggregate(measures=(Measure("total", "sum", "amount"),))
        with (
            pytest.raises(DatabaseError, match="contract_record: integer overflow"),
            crm.backend.read() as reader,
        ):
            reader.aggregate(rtype, total)


def test_date_parts_are_not_written_for_other_databases() -> None:
    table = sa.Table("deal", sa.MetaData(), sa.Column("closed_on", sa.Date()))
    stmt, _ = aggregate_select(
        table, Aggregate(group_by=(GroupKey("closed_on", "year"),)), {"closed_on": "date"},
        None, "mysql",
    )
    with pytest.raises(NotImplementedError, match="year is not written for the mysql database"):
        stmt.compile(dialect=mysql.dialect())


# -- SQL agrees with a plain computation over the rows ----------------------------------

AMOUNTS = st.decimals(
    min_value=decimal.Decimal("-1000000"), max_value=decimal.Decimal("1000000"), places=2
)
RECORDS = st.lists(
    st.fixed_dictionaries({
        "rank": st.none() | st.integers(min_value=-(2**40), max_value=2**40),
        "amount": st.none() | AMOUNTS,
        "active": st.none() | st.booleans(),
        "day": st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
    }),
    max_size=25,
)


class _RollBack(Exception):
    """Ends an example's transaction so the next starts from an empty table."""


def _expected(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group by (active, year of day) and measure, the long way."""
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for r in records:
        year = None if r["day"] is None else f"{r['day'].year:04d}"
        groups.setdefault((r["active"], year), []).append(r)
    out = []
    for (active, year), members in groups.items():
        ranks = [m["rank"] for m in members if m["rank"] is not None]
        amounts = [m["amount"] for m in members if m["amount"] is not None]
        days = [m["day"] for m in members if m["day"] is not None]
        out.append({
            "active": active,
            "day_year": year,
            "n": len(members),
            "ranks": sum(ranks) if ranks else None,
            "amounts": sum(amounts, decimal.Decimal(0)) if amounts else None,
            "first": min(days) if days else None,
            "kinds": len(set(ranks)),
        })

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((0,) if row[k] is None else (1, row[k]) for k in ("active", "day_year"))

    return sorted(out, key=order)


@pytest.fixture
def sql_crm(sql_url: str) -> Iterator[CRM]:
    with crmkit.open(
        sql_url,
        plugins=[CONTRACT_PLUGIN],
        extra_plugins=[(CONTRACT_PLUGIN, ContractPlugin())],
        strict=True,
    ) as crm:
        yield crm


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=RECORDS)
def test_sql_aggregates_agree_with_the_rows(sql_crm: CRM, records: list[dict[str, Any]]) -> None:
    rtype = _rtype(sql_crm)
    wanted = Aggregate(
        group_by=(GroupKey("active"), GroupKey("day", "year")),
        measures=(
            Measure("n", "count"),
            Measure("ranks", "sum", "rank"),
            Measure("amounts", "sum", "amount"),
            Measure("first", "min", "day"),
            Measure("kinds", "count_distinct", "rank"),
        ),
    )
    rows = [rtype.to_row(ContractRecord(**r)) for r in records]
    with pytest.raises(_RollBack), sql_crm.backend.begin() as tx:
        tx.add_many(rtype, rows)
        got = tx.aggregate(rtype, wanted)
        raise _RollBack
    assert got == _expected(records)
