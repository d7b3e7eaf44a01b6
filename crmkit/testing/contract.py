"""The storage backend contract: one suite that every backend must pass.

A backend proves it keeps data the way crmkit expects by passing these tests.
Subclass :class:`BackendContract` in a test module (the subclass name starts
with ``Test`` so pytest collects it) and provide a ``backend_url`` fixture that
names empty storage for each test::

    import pytest
    from crmkit.testing import BackendContract

    class TestMyStore(BackendContract):
        @pytest.fixture
        def backend_url(self, tmp_path):
            return f"mystore://{tmp_path}"

        @pytest.fixture
        def backend_plugins(self):
            return ["mystore"]  # the installed plugin whose crmkit_storage_backend handles it

``backend_plugins`` may also hold ``(name, plugin_object)`` pairs registered
directly. The suite adds its own entity type, ``contract.record``, with one
field of every storable kind; SQL backends get its table from the migration
branch ``crmkit_contract``.

Tests talk to the backend through ``crm.backend.begin()`` transactions and,
for the behaviour users see, through the public CRM API.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import pytest

import crmkit
from crmkit.crm import CRM
from crmkit.entities.base import Entity, entity, utcnow
from crmkit.entities.fields import field
from crmkit.entities.types import EntityType
from crmkit.errors import DuplicateError, ValidationError
from crmkit.ids import new_id
from crmkit.migrations.runner import MigrationBranch
from crmkit.storage.base import DeliveryFailure, Row, StorageBackend, StoredEvent
from crmkit.storage.query import (
    Aggregate,
    AllOf,
    AnyOf,
    Cond,
    Filter,
    GroupKey,
    Measure,
    Not,
    Query,
    Related,
)

CONTRACT_PLUGIN = "crmkit-contract"
UTC = dt.UTC
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))


@entity("contract.record", description="A record with one field of every storable kind.")
@attrs.define(kw_only=True)
class ContractRecord(Entity):
    """What the contract writes: text, numbers, flags, times and JSON values."""

    code: str | None = field(default=None, privacy="none", erase="keep", unique=True)
    name: str | None = field(default=None, privacy="none", erase="keep", indexed=True)
    rank: int | None = field(default=None, privacy="none", erase="keep")
    score: float | None = field(default=None, privacy="none", erase="keep")
    amount: decimal.Decimal | None = field(default=None, privacy="none", erase="keep")
    active: bool | None = field(default=None, privacy="none", erase="keep")
    day: dt.date | None = field(default=None, privacy="none", erase="keep")
    seen_at: dt.datetime | None = field(default=None, privacy="none", erase="keep")
    tags: list[str] = field(factory=list, privacy="none", erase="keep")
    data: dict[str, Any] = field(factory=dict, privacy="none", erase="keep")


class ContractPlugin:
    """Registers the contract's entity type and its migration branch."""

    def crmkit_register_entity_types(self) -> Sequence[type]:
        return [ContractRecord]

    def crmkit_migrations(self) -> Sequence[MigrationBranch]:
        return [MigrationBranch("crmkit_contract", "crmkit.testing:migrations")]


def _at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, 0, tzinfo=UTC)


# Six records added in this order (so their ids sort a..f). The query tests name
# the expected records by their codes, in id order unless an order is given.
SAMPLE: tuple[dict[str, Any], ...] = (
    {"code": "a", "name": "Ada Lovelace", "rank": 3, "score": 1.5,
     "amount": decimal.Decimal("10.50"), "active": True, "day": dt.date(1815, 12, 10),
     "seen_at": _at(1), "tags": ["vip"], "data": {"tier": "gold"}},
    {"code": "b", "name": "ada byron", "rank": 1, "score": -2.0,
     "amount": decimal.Decimal("0"), "active": False, "day": dt.date(1792, 1, 22),
     "seen_at": _at(2)},
    {"code": "c", "name": "Grace Hopper", "rank": 2, "score": None,
     "amount": decimal.Decimal("99.99"), "active": None, "day": dt.date(1906, 12, 9),
     "seen_at": _at(3)},
    {"code": "d", "name": "100%_sure", "rank": None, "score": 0.25,
     "amount": None, "active": True, "day": dt.date(2000, 1, 1), "seen_at": _at(4)},
    {"code": "e", "name": "100 percent sure", "rank": 5, "score": 3.0,
     "amount": decimal.Decimal("5"), "active": False, "day": dt.date(2001, 2, 3),
     "seen_at": _at(5)},
    {"code": "f", "name": None, "rank": None, "score": None, "amount": None,
     "active": None, "day": None, "seen_at": None},
)

# (what the case checks, filter, codes of the matching records in id order)
FILTER_CASES: tuple[tuple[str, Filter, str], ...] = (
    ("eq", Cond("name", "eq", "Grace Hopper"), "c"),
    ("eq None", Cond("name", "eq", None), "f"),
    ("eq True", Cond("active", "eq", True), "ad"),
    ("eq False", Cond("active", "eq", False), "be"),
    ("ne keeps records with no value", Cond("rank", "ne", 1), "acdef"),
    ("ne None", Cond("rank", "ne", None), "abce"),
    ("lt", Cond("rank", "lt", 3), "bc"),
    ("le", Cond("rank", "le", 3), "abc"),
    ("gt", Cond("rank", "gt", 2), "ae"),
    ("ge", Cond("rank", "ge", 2), "ace"),
    ("lt float", Cond("score", "lt", 0.5), "bd"),
    ("ge decimal", Cond("amount", "ge", decimal.Decimal("10.5")), "ac"),
    ("lt date", Cond("day", "lt", dt.date(1900, 1, 1)), "ab"),
    ("ge datetime", Cond("seen_at", "ge", _at(4)), "de"),
    (
        "lt datetime in another zone",
        Cond("seen_at", "lt", dt.datetime(2024, 1, 2, 10, 0, tzinfo=PARIS_SUMMER)),
        "a",
    ),
    ("in", Cond("code", "in", ["a", "c", "zz"]), "ac"),
    ("in numbers", Cond("rank", "in", [1, 5]), "be"),
    ("in nothing", Cond("code", "in", []), ""),
    ("contains ignores case", Cond("name", "contains", "ADA"), "ab"),
    ("contains", Cond("name", "contains", "hopp"), "c"),
    ("contains % as text", Cond("name", "contains", "%"), "d"),
    ("contains _ as text", Cond("name", "contains", "_"), "d"),
    ("contains _ is no wildcard", Cond("name", "contains", "100_"), ""),
    ("contains % and _", Cond("name", "contains", "0%_S"), "d"),
    ("contains a backslash", Cond("name", "contains", "\\"), ""),
    ("startswith ignores case", Cond("name", "startswith", "ada"), "ab"),
    ("startswith % as text", Cond("name", "startswith", "100%"), "d"),
    ("startswith % alone", Cond("name", "startswith", "%"), ""),
    ("isnull", Cond("rank", "isnull", True), "df"),
    ("isnull False", Cond("rank", "isnull", False), "abce"),
    ("AnyOf", AnyOf((Cond("code", "eq", "a"), Cond("rank", "eq", 5))), "ae"),
    ("AllOf", AllOf((Cond("name", "contains", "ada"), Cond("active", "eq", False))), "b"),
    (
        "AnyOf of AllOf",
        AnyOf((
            AllOf((Cond("rank", "ge", 2), Cond("active", "eq", True))),
            Cond("name", "isnull", True),
        )),
        "af",
    ),
    ("Not keeps records with no value", Not(Cond("rank", "gt", 2)), "bcdf"),
    (
        "Not of an AnyOf with an unknown part",
        Not(AnyOf((Cond("rank", "gt", 2), Cond("active", "eq", True)))),
        "bcf",
    ),
    ("Not of contains", Not(Cond("name", "contains", "ada")), "cdef"),
    ("Not of Not", Not(Not(Cond("active", "eq", False))), "be"),
)

# Records with lists and dicts, added in this order (ids sort g..k), for ``has``
# and for keys inside a dict field.
JSON_SAMPLE: tuple[dict[str, Any], ...] = (
    {"code": "g", "tags": ["vip", "early"], "data": {"tier": "gold", "level": 3, "ok": True}},
    {"code": "h", "tags": ["early"], "data": {"tier": "silver", "level": 1.5, "ok": False}},
    {"code": "i", "tags": ["1"], "data": {"tier": None, "level": "3"}},
    {"code": "j", "tags": [], "data": {"tier": "Gold Plus", "ok": 1}},
    {"code": "k"},
)

JSON_FILTER_CASES: tuple[tuple[str, Filter, str], ...] = (
    ("has", Cond("tags", "has", "vip"), "g"),
    ("has is exact", Cond("tags", "has", "VIP"), ""),
    ("has in several", Cond("tags", "has", "early"), "gh"),
    ("has a number is not its text", Cond("tags", "has", 1), ""),
    ("has text that reads as a number", Cond("tags", "has", "1"), "i"),
    ("Not has", Not(Cond("tags", "has", "early")), "ijk"),
    ("key eq", Cond("data.tier", "eq", "gold"), "g"),
    ("key ne keeps records without the key", Cond("data.tier", "ne", "gold"), "hijk"),
    ("key eq None: missing or null", Cond("data.tier", "eq", None), "ik"),
    ("key ne None", Cond("data.tier", "ne", None), "ghj"),
    ("key isnull", Cond("data.tier", "isnull", True), "ik"),
    ("key isnull False", Cond("data.tier", "isnull", False), "ghj"),
    ("key in", Cond("data.tier", "in", ["gold", "silver", "bronze"]), "gh"),
    ("key in nothing", Cond("data.tier", "in", []), ""),
    ("key startswith ignores case", Cond("data.tier", "startswith", "GOLD"), "gj"),
    ("key contains", Cond("data.tier", "contains", "plus"), "j"),
    ("key contains skips numbers", Cond("data.level", "contains", "3"), "i"),
    ("key eq number is not its text", Cond("data.level", "eq", 3), "g"),
    ("key eq text is not its number", Cond("data.level", "eq", "3"), "i"),
    ("key gt int", Cond("data.level", "gt", 1), "gh"),
    ("key lt Decimal", Cond("data.level", "lt", decimal.Decimal("2")), "h"),
    ("key ge float", Cond("data.level", "ge", 1.5), "gh"),
    ("key in mixed kinds", Cond("data.level", "in", [3, "3"]), "gi"),
    ("key eq True is not 1", Cond("data.ok", "eq", True), "g"),
    ("key eq False", Cond("data.ok", "eq", False), "h"),
    ("key eq 1 is not True", Cond("data.ok", "eq", 1), "j"),
    ("key ne True", Cond("data.ok", "ne", True), "hijk"),
    ("Not key gt", Not(Cond("data.level", "gt", 1)), "ijk"),
    (
        "Not of AnyOf over keys",
        Not(AnyOf((Cond("data.tier", "eq", "gold"), Cond("data.ok", "eq", False)))),
        "ijk",
    ),
    (
        "has and key together",
        AllOf((Cond("tags", "has", "early"), Cond("data.level", "lt", 2))),
        "h",
    ),
)

# (what the case checks, order, codes in the expected order)
ORDER_CASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ascending puts no value first", ("rank",), "dfbcae"),
    ("descending puts no value last", ("-rank",), "eacbdf"),
    ("descending text", ("-code",), "fedcba"),
    ("ascending dates", ("day",), "fbacde"),
    ("descending decimals", ("-amount",), "caebdf"),
    ("two keys", ("active", "-rank"), "cfebad"),
    ("ties broken by id", ("active",), "cfbead"),
)


def _row(rtype: EntityType, **values: Any) -> Row:
    """A complete stored row for a contract record (id and times filled in)."""
    row: Row = rtype.to_row(ContractRecord(**values))
    return row


def _codes(rows: Sequence[Row]) -> str:
    return "".join(str(r["code"]) for r in rows)


def _event(name: str, subject_id: str | None = None, **payload: Any) -> StoredEvent:
    return StoredEvent(
        id=new_id(), name=name, version=1, occurred_at=utcnow(), actor="tester",
        subject_id=subject_id, payload=dict(payload),
    )


def _failure(event_id: str, subscriber: str, failed_at: dt.datetime) -> DeliveryFailure:
    return DeliveryFailure(
        id=new_id(), event_id=event_id, subscriber=subscriber, error="RuntimeError: boom",
        attempts=1, failed_at=failed_at,
    )


def _is_utc(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0)


class BackendContract:
    """Every test a storage backend must pass; subclass it and provide ``backend_url``."""

    # -- fixtures the subclass provides or may override ---------------------
    @pytest.fixture
    def backend_plugins(self) -> Sequence[str | tuple[str, object]]:
        """Plugins the backend needs: installed plugin names or ``(name, object)`` pairs."""
        return []

    @pytest.fixture
    def contract_crm(
        self, backend_url: str, backend_plugins: Sequence[str | tuple[str, object]]
    ) -> Iterator[CRM]:
        """A CRM on empty storage with the contract's entity type registered."""
        names = [p if isinstance(p, str) else p[0] for p in backend_plugins]
        extra = [p for p in backend_plugins if not isinstance(p, str)]
        with crmkit.open(
            backend_url,
            plugins=[*names, CONTRACT_PLUGIN],
            extra_plugins=[*extra, (CONTRACT_PLUGIN, ContractPlugin())],
            strict=True,
        ) as crm:
            yield crm

    @pytest.fixture
    def backend(self, contract_crm: CRM) -> StorageBackend:
        return contract_crm.backend

    @pytest.fixture
    def rtype(self, contract_crm: CRM) -> EntityType:
        return contract_crm.entity_type("contract.record")

    @pytest.fixture
    def sample(self, backend: StorageBackend, rtype: EntityType) -> list[Row]:
        """The six SAMPLE records, stored in one transaction."""
        rows = [_row(rtype, **values) for values in SAMPLE]
        with backend.begin() as tx:
            for row in rows:
                tx.add(rtype, row)
        return rows

    # -- single records ---------------------------------------------------------
    def test_get_missing_record_is_none(self, backend: StorageBackend, rtype: EntityType) -> None:
        with backend.begin() as tx:
            assert tx.get(rtype, new_id()) is None

    def test_values_round_trip_with_their_types(
        self, backend: StorageBackend, rtype: EntityType
    ) -> None:
        seen = dt.datetime(2024, 3, 31, 1, 30, 15, 123456, tzinfo=PARIS_SUMMER)
        row = _row(
            rtype,
            code="zoë-1",
            name="Zoë Ünal — 北京 🚀",
            rank=2**53 + 1,
            score=0.1,
            amount=decimal.Decimal("12345.678901"),
            active=False,
            day=dt.date(1815, 12, 10),
            seen_at=seen,
            tags=["a", "β", ""],
            data={"nested": {"list": [1, 2.5, "x", None, True]}, "ünï": "cödé", "empty": {}},
        )
        with backend.begin() as tx:
            tx.add(rtype, row)
        with backend.begin() as tx:
            got = tx.get(rtype, row["id"])
        assert got is not None
        assert got == row
        assert isinstance(got["rank"], int) and not isinstance(got["rank"], bool)
        assert isinstance(got["score"], float)
        assert isinstance(got["amount"], decimal.Decimal)
        assert got["active"] is False
        assert type(got["day"]) is dt.date
        assert _is_utc(got["seen_at"]) and got["seen_at"] == seen
        assert _is_utc(got["created_at"]) and _is_utc(got["updated_at"])
        assert isinstance(got["tags"], list) and isinstance(got["data"], dict)

    def test_empty_values_round_trip(self, backend: StorageBackend, rtype: EntityType) -> None:
        row = _row(rtype)
        with backend.begin() as tx:
            tx.add(rtype, row)
        with backend.begin() as tx:
            got = tx.get(rtype, row["id"])
        assert got == row
        assert got is not None and got["name"] is None and got["tags"] == []

    def test_get_by_finds_the_record_with_that_value(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with backend.begin() as tx:
            found = tx.get_by(rtype, "code", "c")
            missing = tx.get_by(rtype, "code", "zz")
        assert found == sample[2]
        assert missing is None

    def test_add_many_adds_every_row(self, backend: StorageBackend, rtype: EntityType) -> None:
        rows = [_row(rtype, code=f"r{i}", rank=i, tags=[str(i)]) for i in range(25)]
        with backend.begin() as tx:
            assert tx.add_many(rtype, rows) == 25
            assert tx.add_many(rtype, []) == 0
        with backend.begin() as tx:
            stored = tx.query(rtype, Query())
        assert stored == rows

    def test_update_changes_only_the_given_fields(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        later = dt.datetime(2025, 6, 1, 12, 0, tzinfo=PARIS_SUMMER)
        changes = {"name": "Augusta Ada King", "tags": ["x", "y"], "seen_at": later, "rank": None}
        with backend.begin() as tx:
            assert tx.update(rtype, sample[0]["id"], changes) is True
            assert tx.update(rtype, new_id(), {"name": "nobody"}) is False
        with backend.begin() as tx:
            got = tx.get(rtype, sample[0]["id"])
            other = tx.get(rtype, sample[1]["id"])
        assert got == {**sample[0], **changes}
        assert got is not None and _is_utc(got["seen_at"])
        assert other == sample[1]

    def test_update_with_expected_values_writes_when_they_still_hold(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        first = sample[0]
        expect = {
            "code": "a",
            "rank": 3,
            "score": 1.5,
            "amount": decimal.Decimal("10.5"),
            "active": True,
            "day": dt.date(1815, 12, 10),
            "seen_at": _at(1).astimezone(PARIS_SUMMER),
        }
        with backend.begin() as tx:
            assert tx.update(rtype, first["id"], {"name": "Countess"}, expect=expect) is True
            # The transaction's own write is what the next comparison sees.
            assert tx.update(rtype, first["id"], {"rank": 4}, expect={"name": "Countess"})
        with backend.begin() as tx:
            assert tx.get(rtype, first["id"]) == {**first, "name": "Countess", "rank": 4}

    def test_update_with_a_value_that_no_longer_holds_writes_nothing(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        first = sample[0]
        with backend.begin() as tx:
            assert tx.update(rtype, first["id"], {"name": "x"}, expect={"rank": 4}) is False
            # One field still as read is not enough: every expected value must hold.
            stale = {"code": "a", "active": False}
            assert tx.update(rtype, first["id"], {"name": "x"}, expect=stale) is False
            assert tx.update(rtype, first["id"], {"name": "x"}, expect={"rank": None}) is False
        with backend.begin() as tx:
            assert tx.query(rtype, Query()) == sample

    def test_update_expecting_no_value_matches_only_empty_fields(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        empty, filled = sample[3], sample[4]  # rank None, rank 5
        with backend.begin() as tx:
            assert tx.update(rtype, empty["id"], {"rank": 7}, expect={"rank": None}) is True
            assert tx.update(rtype, filled["id"], {"rank": 8}, expect={"rank": None}) is False
            # Now filled: expecting it empty again fails, as a second writer would.
            assert tx.update(rtype, empty["id"], {"rank": 9}, expect={"rank": None}) is False
        with backend.begin() as tx:
            assert [r["rank"] for r in tx.query(rtype, Query())] == [3, 1, 2, 7, 5, None]

    def test_update_expecting_unknown_or_list_fields_is_refused(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        first = sample[0]
        with backend.begin() as tx:
            with pytest.raises(ValidationError) as unknown:
                tx.update(
                    rtype, first["id"], {"name": "x"}, expect={"rank": 3, "rnak": 3, "colour": 1}
                )
            with pytest.raises(ValidationError) as listed:
                tx.update(rtype, first["id"], {"name": "x"}, expect={"tags": ["vip"]})
        assert unknown.value.entity == "contract.record"
        assert unknown.value.field == "rnak, colour"
        assert "no such field" in str(unknown.value)
        assert listed.value.field == "tags"
        with backend.begin() as tx:
            assert tx.get(rtype, first["id"]) == first

    def test_update_with_expected_values_of_a_missing_record_is_false(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with backend.begin() as tx:
            assert tx.update(rtype, new_id(), {"name": "x"}, expect={"rank": None}) is False
            assert tx.update(rtype, new_id(), {"name": "x"}, expect={"code": "a"}) is False
        with backend.begin() as tx:
            assert tx.query(rtype, Query()) == sample

    def test_delete_removes_one_record(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with backend.begin() as tx:
            assert tx.delete(rtype, sample[1]["id"]) is True
        with backend.begin() as tx:
            assert tx.delete(rtype, sample[1]["id"]) is False
            assert tx.get(rtype, sample[1]["id"]) is None
            assert _codes(tx.query(rtype, Query())) == "acdef"

    def test_delete_where_removes_the_matching_records(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with backend.begin() as tx:
            removed = tx.delete_where(rtype, Cond("name", "contains", "ada"))
            none_removed = tx.delete_where(rtype, Cond("code", "eq", "zz"))
        assert (removed, none_removed) == (2, 0)
        with backend.begin() as tx:
            assert _codes(tx.query(rtype, Query())) == "cdef"

    # -- queries ------------------------------------------------------------------
    def test_query_filters_with_every_operator(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        wrong: dict[str, str] = {}
        with backend.begin() as tx:
            for label, where, expected in FILTER_CASES:
                got = _codes(tx.query(rtype, Query(where)))
                count = tx.count(rtype, where)
                if (got, count) != (expected, len(expected)):
                    wrong[label] = f"expected {expected!r}, got {got!r} and count {count}"
        assert wrong == {}

    def test_query_filters_lists_and_keys_inside_dicts(
        self, backend: StorageBackend, rtype: EntityType
    ) -> None:
        with backend.begin() as tx:
            for values in JSON_SAMPLE:
                tx.add(rtype, _row(rtype, **values))
        wrong: dict[str, str] = {}
        with backend.read() as reader:
            for label, where, expected in JSON_FILTER_CASES:
                got = _codes(reader.query(rtype, Query(where)))
                count = reader.count(rtype, where)
                if (got, count) != (expected, len(expected)):
                    wrong[label] = f"expected {expected!r}, got {got!r} and count {count}"
        assert wrong == {}

    @pytest.fixture
    def linked(self, backend: StorageBackend, rtype: EntityType, sample: list[Row]) -> list[Row]:
        """SAMPLE plus x, y (linking to a by ``name``), z (to c) and w (to x)."""
        a, c = sample[0]["id"], sample[2]["id"]
        x = _row(rtype, code="x", name=a, rank=7)
        rows = [x, _row(rtype, code="y", name=a, rank=1), _row(rtype, code="z", name=c, rank=2)]
        rows.append(_row(rtype, code="w", name=x["id"], rank=0))
        with backend.begin() as tx:
            tx.add_many(rtype, rows)
        return [*sample, *rows]

    def test_related_filters_look_at_the_linking_records(
        self, backend: StorageBackend, rtype: EntityType, linked: list[Row]
    ) -> None:
        entity = "contract.record"
        cases: tuple[tuple[str, Filter, str], ...] = (
            ("any linking record", Related(entity, "name"), "acx"),
            ("a linking record that matches", Related(entity, "name", Cond("rank", "gt", 5)), "a"),
            ("none matches", Related(entity, "name", Cond("rank", "gt", 50)), ""),
            ("Not Related", Not(Related(entity, "name", Cond("rank", "ge", 2))), "bdefxyzw"),
            ("nested", Related(entity, "name", Related(entity, "name")), "a"),
            (
                "with the record's own fields",
                AllOf((Related(entity, "name"), Cond("active", "eq", True))),
                "a",
            ),
        )
        wrong: dict[str, str] = {}
        with backend.read() as reader:
            for label, where, expected in cases:
                got = _codes(reader.query(rtype, Query(where)))
                count = reader.count(rtype, where)
                if (got, count) != (expected, len(expected)):
                    wrong[label] = f"expected {expected!r}, got {got!r} and count {count}"
            grouped = reader.aggregate(
                rtype, Aggregate(Related(entity, "name"), (GroupKey("active"),))
            )
        assert wrong == {}
        assert grouped == [{"active": None, "count": 2}, {"active": True, "count": 1}]

    def test_related_filters_see_the_transactions_own_writes_and_delete(
        self, backend: StorageBackend, rtype: EntityType, linked: list[Row]
    ) -> None:
        wanted = Related("contract.record", "name", Cond("code", "eq", "v"))
        with backend.begin() as tx:
            tx.add(rtype, _row(rtype, code="v", name=linked[4]["id"]))
            assert _codes(tx.query(rtype, Query(wanted))) == "e"
            assert tx.delete_where(rtype, Not(Related("contract.record", "name"))) == 7
        with backend.read() as reader:
            assert _codes(reader.query(rtype, Query())) == "acex"

    @pytest.mark.parametrize(
        ("where", "entity", "field"),
        [
            (Related("contract.nothing", "name"), "contract.nothing", None),
            (Related("contract.record", "nope"), "contract.record", "nope"),
        ],
        ids=["unknown entity type", "unknown link field"],
    )
    def test_related_filters_refuse_unknown_types_and_links(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row],
        where: Filter, entity: str, field: str | None,
    ) -> None:
        with pytest.raises(ValidationError) as caught, backend.read() as reader:
            reader.query(rtype, Query(where))
        assert (caught.value.entity, caught.value.field) == (entity, field)

    def test_query_order_puts_empty_values_lowest(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        wrong: dict[str, str] = {}
        with backend.begin() as tx:
            for label, order_by, expected in ORDER_CASES:
                got = _codes(tx.query(rtype, Query(order_by=order_by)))
                if got != expected:
                    wrong[label] = f"order {order_by}: expected {expected!r}, got {got!r}"
        assert wrong == {}

    def test_pages_are_stable_and_complete(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        order = ("active",)
        with backend.begin() as tx:
            pages = [
                _codes(tx.query(rtype, Query(order_by=order, limit=2, offset=start)))
                for start in (0, 2, 4, 6)
            ]
            tail = _codes(tx.query(rtype, Query(order_by=order, offset=3)))
            filtered = _codes(
                tx.query(rtype, Query(Cond("rank", "isnull", False), ("-rank",), 2, 1))
            )
        assert pages == ["cf", "be", "ad", ""]
        assert tail == "ead"
        assert filtered == "ac"

    def test_rows_come_back_in_id_order_by_default(
        self, backend: StorageBackend, rtype: EntityType
    ) -> None:
        rows = [_row(rtype, code=f"x{i}") for i in range(5)]
        with backend.begin() as tx:
            for row in reversed(rows):
                tx.add(rtype, row)
        with backend.begin() as tx:
            assert [r["id"] for r in tx.query(rtype, Query())] == [r["id"] for r in rows]

    def test_count_without_and_with_filter(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with backend.begin() as tx:
            assert tx.count(rtype) == 6
            assert tx.count(rtype, Cond("active", "eq", True)) == 2
            assert tx.count(rtype, Cond("code", "eq", "zz")) == 0

    # -- grouped aggregates ---------------------------------------------------------
    def test_aggregate_without_groups_measures_every_record(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        measures = (
            Measure("records", "count"),
            Measure("ranked", "count", "rank"),
            Measure("flags", "count_distinct", "active"),
            Measure("rank_total", "sum", "rank"),
            Measure("amount_total", "sum", "amount"),
            Measure("score_total", "sum", "score"),
            Measure("rank_mean", "avg", "rank"),
            Measure("amount_mean", "avg", "amount"),
            Measure("first_day", "min", "day"),
            Measure("last_seen", "max", "seen_at"),
            Measure("low_amount", "min", "amount"),
            Measure("high_amount", "max", "amount"),
            Measure("high_rank", "max", "rank"),
            Measure("first_code", "min", "code"),
        )
        with backend.begin() as tx:
            (got,) = tx.aggregate(rtype, Aggregate(measures=measures))
        assert got == {
            "records": 6,
            "ranked": 4,
            "flags": 2,
            "rank_total": 11,
            "amount_total": decimal.Decimal("115.49"),
            "score_total": 2.75,
            "rank_mean": 2.75,
            "amount_mean": pytest.approx(28.8725),
            "first_day": dt.date(1792, 1, 22),
            "last_seen": _at(5),
            "low_amount": decimal.Decimal("0"),
            "high_amount": decimal.Decimal("99.99"),
            "high_rank": 5,
            "first_code": "a",
        }
        types = {name: type(value) for name, value in got.items()}
        assert types == {
            "records": int, "ranked": int, "flags": int, "rank_total": int,
            "amount_total": decimal.Decimal, "score_total": float, "rank_mean": float,
            "amount_mean": float, "first_day": dt.date, "last_seen": dt.datetime,
            "low_amount": decimal.Decimal, "high_amount": decimal.Decimal, "high_rank": int,
            "first_code": str,
        }
        assert _is_utc(got["last_seen"])

    def test_aggregate_over_no_records_gives_one_row_of_nothing(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        nobody = Cond("code", "eq", "zz")
        measures = (
            Measure("n", "count"),
            Measure("codes", "count_distinct", "code"),
            Measure("total", "sum", "rank"),
            Measure("mean", "avg", "amount"),
            Measure("first", "min", "seen_at"),
        )
        with backend.begin() as tx:
            alone = tx.aggregate(rtype, Aggregate(where=nobody, measures=measures))
            grouped = tx.aggregate(rtype, Aggregate(nobody, (GroupKey("active"),), measures))
            default = tx.aggregate(rtype, Aggregate(where=nobody))
        assert alone == [{"n": 0, "codes": 0, "total": None, "mean": None, "first": None}]
        assert grouped == []
        assert default == [{"count": 0}]

    def test_aggregate_groups_come_sorted_with_no_value_first(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        measures = (
            Measure("n", "count"),
            Measure("rank_total", "sum", "rank"),
            Measure("amount_total", "sum", "amount"),
            Measure("codes", "count_distinct", "code"),
        )
        with backend.begin() as tx:
            got = tx.aggregate(rtype, Aggregate(group_by=(GroupKey("active"),), measures=measures))
        assert got == [
            {"active": None, "n": 2, "rank_total": 2, "amount_total": decimal.Decimal("99.99"),
             "codes": 2},
            {"active": False, "n": 2, "rank_total": 6, "amount_total": decimal.Decimal("5"),
             "codes": 2},
            {"active": True, "n": 2, "rank_total": 3, "amount_total": decimal.Decimal("10.5"),
             "codes": 2},
        ]
        assert [type(r["active"]) for r in got[1:]] == [bool, bool]

    def test_aggregate_filters_then_groups_by_several_keys(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        wanted = Aggregate(
            where=Cond("rank", "isnull", False),
            group_by=(GroupKey("active", name="flag"), GroupKey("rank")),
            measures=(Measure("n", "count"), Measure("best", "max", "score")),
        )
        with backend.begin() as tx:
            got = tx.aggregate(rtype, wanted)
        assert got == [
            {"flag": None, "rank": 2, "n": 1, "best": None},
            {"flag": False, "rank": 1, "n": 1, "best": -2.0},
            {"flag": False, "rank": 5, "n": 1, "best": 3.0},
            {"flag": True, "rank": 3, "n": 1, "best": 1.5},
        ]

    def test_aggregate_groups_dates_by_day_month_and_year_as_text(
        self, backend: StorageBackend, rtype: EntityType
    ) -> None:
        # 01:30 in Paris on 1 April is 23:30 UTC on 31 March: groups are taken in UTC.
        late = dt.datetime(2024, 4, 1, 1, 30, tzinfo=PARIS_SUMMER)
        april = dt.datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
        values: list[dict[str, Any]] = [
            {"code": "m1", "day": dt.date(2024, 3, 14), "seen_at": late},
            {"code": "m2", "day": dt.date(2024, 3, 30), "seen_at": _at(31, 23)},
            {"code": "a1", "day": dt.date(2024, 4, 1), "seen_at": april},
            {"code": "y0", "day": dt.date(999, 12, 31), "seen_at": None},
            {"code": "no", "day": None, "seen_at": None},
        ]
        with backend.begin() as tx:
            tx.add_many(rtype, [_row(rtype, **v) for v in values])
        count = (Measure("n", "count"),)

        def keys(*group_by: GroupKey) -> list[tuple[Any, ...]]:
            with backend.read() as reader:
                rows = reader.aggregate(rtype, Aggregate(group_by=group_by, measures=count))
            return [tuple(row.values()) for row in rows]

        assert keys(GroupKey("seen_at", "day")) == [
            (None, 2), ("2024-01-31", 1), ("2024-03-31", 1), ("2024-04-01", 1)
        ]
        assert keys(GroupKey("seen_at", "month")) == [
            (None, 2), ("2024-01", 1), ("2024-03", 1), ("2024-04", 1)
        ]
        assert keys(GroupKey("day", "month")) == [
            (None, 1), ("0999-12", 1), ("2024-03", 2), ("2024-04", 1)
        ]
        assert keys(GroupKey("day", "year"), GroupKey("seen_at", "year", name="seen")) == [
            (None, None, 1), ("0999", None, 1), ("2024", "2024", 3)
        ]
        with backend.read() as reader:
            (named,) = reader.aggregate(
                rtype, Aggregate(Cond("code", "eq", "m1"), (GroupKey("day", "day"),), count)
            )
        assert named == {"day_day": "2024-03-14", "n": 1}

    def test_aggregate_sums_are_exact(self, backend: StorageBackend, rtype: EntityType) -> None:
        big = 2**53 + 1  # a float would lose the 1
        amount = decimal.Decimal("123456789.123456")
        rows = [_row(rtype, code=f"s{i}", rank=big if i < 2 else 1, amount=amount)
                for i in range(200)]
        with backend.begin() as tx:
            tx.add_many(rtype, rows)
        totals = (Measure("ranks", "sum", "rank"), Measure("amounts", "sum", "amount"))
        with backend.read() as reader:
            (got,) = reader.aggregate(rtype, Aggregate(measures=totals))
        assert got == {"ranks": 2 * big + 198, "amounts": amount * 200}
        assert type(got["ranks"]) is int

    def test_aggregate_sees_the_transactions_own_writes_and_reads_see_committed_ones(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        total = Aggregate(measures=(Measure("n", "count"), Measure("ranks", "sum", "rank")))
        with backend.begin() as tx:
            tx.add(rtype, _row(rtype, code="new", rank=10))
            assert tx.aggregate(rtype, total) == [{"n": 7, "ranks": 21}]
            with backend.read() as reader:
                assert reader.aggregate(rtype, total) == [{"n": 6, "ranks": 11}]
        with backend.read() as reader:
            assert reader.aggregate(rtype, total) == [{"n": 7, "ranks": 21}]

    @pytest.mark.parametrize(
        ("aggregate", "field"),
        [
            (Aggregate(group_by=(GroupKey("colour"),)), "colour"),
            (Aggregate(measures=(Measure("total", "sum", "size"),)), "size"),
            (Aggregate(where=Cond("nope", "eq", 1)), "nope"),
            (Aggregate(group_by=(GroupKey("rank", "month"),)), "rank"),
            (Aggregate(group_by=(GroupKey("tags"),)), "tags"),
            (Aggregate(measures=(Measure("total", "sum", "name"),)), "name"),
            (Aggregate(measures=(Measure("mean", "avg", "day"),)), "day"),
            (Aggregate(measures=(Measure("most", "max", "data"),)), "data"),
            (Aggregate(measures=(Measure("least", "min", "active"),)), "active"),
        ],
        ids=[
            "unknown group key", "unknown measure field", "unknown filter field",
            "month of a number", "group by a list", "sum of text", "average of dates",
            "max of a dict", "min of flags",
        ],
    )
    def test_aggregate_refuses_what_the_fields_cannot_give(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row],
        aggregate: Aggregate, field: str,
    ) -> None:
        with pytest.raises(ValidationError) as caught, backend.read() as reader:
            reader.aggregate(rtype, aggregate)
        assert (caught.value.entity, caught.value.field) == ("contract.record", field)
        assert "contract.record" in str(caught.value) and field in str(caught.value)

    def test_existing_values_reports_the_stored_ones(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        many = [f"none-{i}" for i in range(2500)] + ["f"]
        with backend.begin() as tx:
            assert tx.existing_values(rtype, "code", ["a", "zz", "f"]) == {"a", "f"}
            assert tx.existing_values(rtype, "code", []) == set()
            assert tx.existing_values(rtype, "code", many) == {"f"}

    # -- unique fields and failed transactions ------------------------------------
    def test_adding_a_taken_unique_value_raises_duplicate(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with pytest.raises(DuplicateError) as caught, backend.begin() as tx:
            tx.add(rtype, _row(rtype, code="a"))
        assert caught.value.entity == "contract.record"
        assert caught.value.field == "code"
        with backend.begin() as tx:
            assert tx.count(rtype) == 6

    def test_adding_a_taken_id_raises_duplicate(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with pytest.raises(DuplicateError), backend.begin() as tx:
            tx.add(rtype, {**_row(rtype, code="new"), "id": sample[0]["id"]})
        with backend.begin() as tx:
            assert tx.get(rtype, sample[0]["id"]) == sample[0]

    def test_updating_to_a_taken_unique_value_raises_duplicate(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with pytest.raises(DuplicateError), backend.begin() as tx:
            tx.update(rtype, sample[1]["id"], {"code": "a"})
        with backend.begin() as tx:
            assert tx.get(rtype, sample[1]["id"]) == sample[1]

    @pytest.mark.parametrize("clash", ["stored", "in-batch"])
    def test_add_many_with_a_taken_unique_value_raises_duplicate_and_keeps_nothing(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row], clash: str
    ) -> None:
        rows = [_row(rtype, code=f"n{i}") for i in range(10)]
        rows.append(_row(rtype, code="a" if clash == "stored" else "n3"))
        with pytest.raises(DuplicateError), backend.begin() as tx:
            tx.add_many(rtype, rows)
        with backend.begin() as tx:
            assert tx.count(rtype) == 6

    def test_a_failing_transaction_leaves_nothing(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        event = _event("contract.failed")
        with pytest.raises(RuntimeError, match="unit of work failed"), backend.begin() as tx:
            tx.add(rtype, _row(rtype, code="new"))
            tx.add_many(rtype, [_row(rtype, code="new2"), _row(rtype, code="new3")])
            tx.update(rtype, sample[0]["id"], {"name": "changed"})
            tx.delete(rtype, sample[1]["id"])
            tx.delete_where(rtype, Cond("code", "in", ["c", "d"]))
            tx.append_events([event])
            tx.record_failure(_failure(event.id, "app:mod.fn", utcnow()))
            raise RuntimeError("unit of work failed")
        with backend.begin() as tx:
            assert tx.query(rtype, Query()) == sample
            assert tx.read_events() == []
            assert tx.failures(unresolved_only=False) == []

    def test_a_duplicate_rolls_back_the_earlier_writes_of_its_transaction(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        with pytest.raises(DuplicateError), backend.begin() as tx:
            tx.add(rtype, _row(rtype, code="first"))
            tx.update(rtype, sample[0]["id"], {"name": "changed"})
            tx.add(rtype, _row(rtype, code="b"))
        with backend.begin() as tx:
            assert tx.query(rtype, Query()) == sample

    def test_writes_are_invisible_to_others_until_commit(
        self, backend: StorageBackend, rtype: EntityType
    ) -> None:
        row = _row(rtype, code="pending")
        with backend.begin() as tx:
            tx.add(rtype, row)
            assert tx.get(rtype, row["id"]) == row
            with backend.begin() as other:
                assert other.get(rtype, row["id"]) is None
        with backend.begin() as tx:
            assert tx.get(rtype, row["id"]) == row

    def test_reads_outside_a_transaction_see_committed_data_only(
        self, backend: StorageBackend, rtype: EntityType, sample: list[Row]
    ) -> None:
        first = sample[0]
        with backend.read() as reader:
            assert reader.get(rtype, first["id"]) == first
            assert reader.get_by(rtype, "code", first["code"]) == first
            assert reader.query(rtype, Query()) == sample
            assert reader.count(rtype) == len(sample)
        pending = _row(rtype, code="pending")
        with backend.begin() as tx:
            tx.add(rtype, pending)
            with backend.read() as reader:
                assert reader.get(rtype, pending["id"]) is None
        with backend.read() as reader:
            assert reader.get(rtype, pending["id"]) == pending

    # -- the outbox -----------------------------------------------------------------
    def test_outbox_reads_events_in_id_order_after_a_cursor(
        self, backend: StorageBackend
    ) -> None:
        first = [_event("contract.a", n=1), _event("contract.b", n=2), _event("contract.a", n=3)]
        second = [_event("contract.b", n=4, text="héllo ✓", nested={"k": [1, None]})]
        with backend.begin() as tx:
            tx.append_events(list(reversed(first)))
            tx.append_events([])
            assert [e.id for e in tx.read_events()] == [e.id for e in first]
        with backend.begin() as tx:
            tx.append_events(second)
        every = [*first, *second]
        with backend.begin() as tx:
            assert tx.read_events() == every
            assert tx.read_events(after=first[1].id) == every[2:]
            assert tx.read_events(after=second[0].id) == []
            assert tx.read_events(limit=2) == every[:2]
            assert tx.read_events(names=["contract.b"]) == [first[1], second[0]]
            assert tx.read_events(after=first[1].id, names=["contract.a"]) == [first[2]]
            assert tx.read_events(ids=[second[0].id, first[0].id]) == [first[0], second[0]]
            stored = tx.read_events(ids=[second[0].id])[0]
        assert stored.payload == {"n": 4, "text": "héllo ✓", "nested": {"k": [1, None]}}
        assert _is_utc(stored.occurred_at) and stored.occurred_at == second[0].occurred_at

    def test_outbox_reads_the_events_about_one_subject(self, backend: StorageBackend) -> None:
        ada, bob = new_id(), new_id()
        events = [
            _event("contract.a", subject_id=ada, n=1),
            _event("contract.b", subject_id=bob, n=2),
            _event("contract.b", n=3),
            _event("contract.b", subject_id=ada, n=4),
        ]
        with backend.begin() as tx:
            tx.append_events(events)
        with backend.begin() as tx:
            assert tx.read_events(subject_id=ada) == [events[0], events[3]]
            assert tx.read_events(subject_id=ada, names=["contract.b"]) == [events[3]]
            assert tx.read_events(subject_id=ada, after=events[0].id) == [events[3]]
            assert tx.read_events(subject_id=ada, limit=1) == [events[0]]
            assert tx.read_events(subject_id=new_id()) == []
            assert tx.read_events() == events

    def test_an_event_payload_can_be_replaced(self, backend: StorageBackend) -> None:
        kept = _event("contract.a", text="keep me")
        changed = _event("contract.a", text="Ada Lovelace", nested={"email": "ada@example.com"})
        with backend.begin() as tx:
            tx.append_events([kept, changed])
        new_payload = {"text": "[erased]", "nested": {"email": "[erased]"}}
        with backend.begin() as tx:
            assert tx.replace_event_payload(changed.id, new_payload) is True
            assert tx.replace_event_payload(new_id(), {"text": "nobody"}) is False
            assert tx.read_events(ids=[changed.id])[0].payload == new_payload
        with backend.begin() as tx:
            stored = tx.read_events()
        assert stored == [kept, attrs.evolve(changed, payload=new_payload)]

    def test_a_replaced_payload_in_a_failed_transaction_is_not_kept(
        self, backend: StorageBackend
    ) -> None:
        event = _event("contract.a", text="Ada Lovelace")
        with backend.begin() as tx:
            tx.append_events([event])
        with pytest.raises(RuntimeError, match="unit of work failed"), backend.begin() as tx:
            tx.replace_event_payload(event.id, {"text": "[erased]"})
            raise RuntimeError("unit of work failed")
        with backend.begin() as tx:
            assert tx.read_events() == [event]

    def test_the_payload_of_an_event_added_in_the_same_transaction_can_be_replaced(
        self, backend: StorageBackend
    ) -> None:
        event = _event("contract.a", text="Ada Lovelace")
        with backend.begin() as tx:
            tx.append_events([event])
            assert tx.replace_event_payload(event.id, {"text": "[erased]"}) is True
        with backend.begin() as tx:
            assert [e.payload for e in tx.read_events()] == [{"text": "[erased]"}]

    # -- delivery failures ------------------------------------------------------------
    def test_delivery_failures_are_recorded_listed_and_resolved(
        self, backend: StorageBackend
    ) -> None:
        event = _event("contract.a")
        older = _failure(event.id, "app:shop.notify", _at(1))
        newer = _failure(event.id, "loyalty:points.award", _at(2))
        with backend.begin() as tx:
            tx.append_events([event])
            tx.record_failure(newer)
            tx.record_failure(older)
        with backend.begin() as tx:
            assert tx.failures() == [older, newer]
            tx.resolve_failure(older.id, attempts=2, error="RuntimeError: still down")
            tx.resolve_failure(newer.id, attempts=2, error=None)
        with backend.begin() as tx:
            unresolved = tx.failures()
            every = tx.failures(unresolved_only=False)
        assert [(f.id, f.attempts, f.error, f.resolved_at) for f in unresolved] == [
            (older.id, 2, "RuntimeError: still down", None)
        ]
        assert [f.id for f in every] == [older.id, newer.id]
        resolved = every[1]
        assert resolved.subscriber == "loyalty:points.award" and resolved.attempts == 2
        assert _is_utc(resolved.resolved_at) and _is_utc(resolved.failed_at)

    # -- through the public CRM API -----------------------------------------------------
    def test_contacts_through_the_crm(self, contract_crm: CRM) -> None:
        ada = contract_crm.contacts.add(
            first_name="Ada", last_name="Lovelace", email="ada@EXAMPLE.com",
            birth_date="1815-12-10", tags=["vip"],
        )
        assert contract_crm.contacts.get(ada.id) == ada
        assert contract_crm.contacts.get("ada@example.COM") == ada
        moved = contract_crm.contacts.update(ada.id, city="London")
        assert contract_crm.contacts.list({"city": "London"}) == [moved]
        assert contract_crm.contacts.count() == 1
        contract_crm.contacts.delete("ada@example.com")
        assert contract_crm.contacts.find(ada.id) is None
        assert contract_crm.contacts.count() == 0

    def test_contact_search_treats_like_wildcards_as_text(self, contract_crm: CRM) -> None:
        sure = contract_crm.contacts.add(first_name="100%_sure")
        contract_crm.contacts.add(first_name="100 percent sure")
        contract_crm.contacts.add(first_name="Ada", email="ada@example.com")

        def found(text: str) -> list[str]:
            return [c.id for c in contract_crm.contacts.search(text)]

        assert found("100%_sure") == [sure.id]
        assert found("%") == [sure.id]
        assert found("_") == [sure.id]
        assert found("100_") == []
        assert len(found("100")) == 2
        assert len(found("ADA")) == 1

    def test_contact_pages_through_the_crm(self, contract_crm: CRM) -> None:
        ids = [contract_crm.contacts.add(last_name="Smith", first_name="Sam").id for _ in range(7)]
        pages = [
            [c.id for c in contract_crm.contacts.list(limit=3, offset=start)]
            for start in (0, 3, 6)
        ]
        assert pages == [ids[:3], ids[3:6], ids[6:]]

    def test_duplicate_email_through_the_crm(self, contract_crm: CRM) -> None:
        first = contract_crm.contacts.add(first_name="Ada", email="ada@example.com")
        with pytest.raises(DuplicateError, match=first.id):
            contract_crm.contacts.add(first_name="Other", email="ada@EXAMPLE.com")
        assert contract_crm.contacts.count() == 1

    def test_failed_unit_of_work_keeps_nothing_and_delivers_nothing(
        self, contract_crm: CRM
    ) -> None:
        heard: list[str] = []
        contract_crm.events.subscribe("*", lambda event: heard.append(event.name))
        with pytest.raises(RuntimeError), contract_crm.unit_of_work(actor="alice") as uow:
            ada = uow.contacts.add(first_name="Ada", email="ada@example.com")
            uow.organizations.add(name="Analytical Engines")
            uow.interactions.log(ada.id, channel="email", summary="hello")
            raise RuntimeError("stop")
        assert contract_crm.contacts.count() == 0
        assert contract_crm.organizations.count() == 0
        assert contract_crm.events.read() == []
        assert heard == []

    def test_committed_events_are_in_the_outbox(self, contract_crm: CRM) -> None:
        with contract_crm.unit_of_work(actor="alice") as uow:
            ada = uow.contacts.add(first_name="Ada")
            uow.organizations.add(name="Analytical Engines")
        events = contract_crm.events.read()
        assert [e.name for e in events] == ["contact.created", "organization.created"]
        assert events[0].subject_id == ada.id and events[0].actor == "alice"
        assert contract_crm.events.read(after=events[0].id) == events[1:]
