"""The pipeline board: one column per open stage with its count, totals and largest deals.

Every column comes from one grouped aggregate over the open deals of the
pipeline; only the few largest deals of each column are read one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.errors import ValidationError
from crmkit.storage import Aggregate, Cond, GroupKey, Measure, Query
from crmkit_sales.deal_aggregates import DEAL, all_present, equals, stage_of, target_currency
from crmkit_sales.forecast_figures import Board, BoardColumn, BoardDeal, Converter
from crmkit_sales.money import from_minor
from crmkit_sales.settings import Pipeline, sales_settings

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage import StorageReader


def pipeline_board(
    crm: CRM,
    pipeline: str | None = None,
    *,
    owner: str | None = None,
    top: int = 5,
    currency: str | None = None,
) -> Board:
    """The open deals of ``pipeline`` (default: the default one) as a kanban board.

    One column per open stage in pipeline order, with the count, the total,
    the weighted total and the ``top`` largest deals (by their amount in
    ``currency``). ``owner`` narrows to one owner's deals.
    """
    if top < 0:
        raise ValidationError(DEAL, "amount_minor", f"top {top}: give 0 or more deals")
    settings = sales_settings(crm)
    chosen = settings.pipeline(pipeline)
    convert = Converter(target_currency(settings, currency), settings.rates)
    etype = crm.entity_type(DEAL)
    scope = (
        Cond("pipeline", "eq", chosen.name),
        Cond("status", "eq", "open"),
        equals("owner", owner),
    )
    with crm.backend.read() as reader:
        rows = reader.aggregate(
            etype,
            Aggregate(
                where=all_present(*scope),
                group_by=(GroupKey("stage"), GroupKey("currency")),
                measures=(Measure("deals", "count"), Measure("amount", "sum", "amount_minor")),
            ),
        )
        per_stage: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            stage_of(settings, chosen.name, row["stage"], row["deals"])
            per_stage.setdefault(row["stage"], []).append(row)
        columns = [
            _column(crm, reader, chosen, stage, per_stage.get(stage, []), scope, top, convert)
            for stage in chosen.open_stages
        ]
    grand_total: dict[str, int] = {}
    grand_weighted: dict[str, int] = {}
    for row in rows:
        cur, minor = row["currency"], row["amount"] or 0
        probability = chosen.stage(row["stage"]).probability
        grand_total[cur] = grand_total.get(cur, 0) + minor
        grand_weighted[cur] = grand_weighted.get(cur, 0) + minor * probability
    return Board(
        pipeline=chosen.name,
        owner=owner,
        currency=convert.currency,
        columns=tuple(columns),
        count=sum(row["deals"] for row in rows),
        total=convert.money(grand_total),
        weighted=convert.money(grand_weighted, scale=2),
    )


def _column(
    crm: CRM,
    reader: StorageReader,
    pipeline: Pipeline,
    stage: str,
    rows: list[Mapping[str, Any]],
    scope: tuple[Cond | None, ...],
    top: int,
    convert: Converter,
) -> BoardColumn:
    """One board column from its (currency) aggregate rows and its largest deals.

    The largest deals are read per currency present in the column (one
    ``ORDER BY amount_minor DESC LIMIT top`` each, through the stage index)
    and merged by their amount in the board's currency.
    """
    probability = pipeline.stage(stage).probability
    amounts: dict[str, int] = {row["currency"]: row["amount"] or 0 for row in rows}
    column_total = convert.money(amounts)
    weighted = convert.money({cur: minor * probability for cur, minor in amounts.items()}, scale=2)
    largest: list[tuple[Decimal, BoardDeal]] = []
    if top:
        etype = crm.entity_type(DEAL)
        several = len(amounts) > 1
        for cur in sorted(amounts):
            found = reader.query(
                etype,
                Query(
                    where=all_present(
                        *scope,
                        Cond("stage", "eq", stage),
                        equals("currency", cur if several else None),
                    ),
                    order_by=("-amount_minor", "id"),
                    limit=top,
                ),
            )
            for deal in found:
                money = from_minor(deal["amount_minor"], deal["currency"])
                card = BoardDeal(
                    id=deal["id"],
                    title=deal["title"],
                    amount=money,
                    owner=deal["owner"],
                    expected_close=deal["expected_close"],
                )
                worth = convert.money({money.currency: deal["amount_minor"]}).amount
                largest.append((worth, card))
        largest.sort(key=lambda item: (-item[0], item[1].id))
    return BoardColumn(
        stage=stage,
        probability=probability,
        category=pipeline.category(stage),
        count=sum(row["deals"] for row in rows),
        total=column_total,
        weighted=weighted,
        top=tuple(card for _, card in largest[:top]),
    )
