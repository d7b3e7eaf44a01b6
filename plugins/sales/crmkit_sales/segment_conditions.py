"""Who has deals: conditions the sales plugin offers to segments (campaigns and others).

A campaign can then reach "people with an open deal in the enterprise pipeline" or
"people who bought in the last 90 days" without knowing how deals are stored: each
condition is a :class:`crmkit.storage.Related` filter on ``sales.deal`` through the
deal's primary contact, so the whole segment stays one SQL statement. People added
to a deal only as a further contact (``sales.deal_contact``) are not matched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from crmkit.entities import utcnow
from crmkit.segments import SegmentCondition
from crmkit.storage import AllOf, Cond, Filter, Related

DEAL = "sales.deal"

OPEN_DEAL_PARAMS: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "pipeline": {"type": "string", "minLength": 1},
        "stages": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "additionalProperties": False,
}
WON_DEAL_PARAMS: Mapping[str, Any] = {
    "type": "object",
    "properties": {"within_days": {"type": "integer", "minimum": 1}},
    "additionalProperties": False,
}


def _deals(conds: Sequence[Filter]) -> Filter:
    where = conds[0] if len(conds) == 1 else AllOf(tuple(conds))
    return Related(DEAL, "contact_id", where)


def open_deal(params: Mapping[str, Any]) -> Filter:
    """Primary contacts of an open deal (in ``pipeline``, at one of ``stages``, if given)."""
    conds: list[Filter] = [Cond("status", "eq", "open")]
    if "pipeline" in params:
        conds.append(Cond("pipeline", "eq", params["pipeline"]))
    if "stages" in params:
        conds.append(Cond("stage", "in", list(params["stages"])))
    return _deals(conds)


def won_deal(params: Mapping[str, Any]) -> Filter:
    """Primary contacts of a won deal (closed in the last ``within_days`` days, if given)."""
    conds: list[Filter] = [Cond("status", "eq", "won")]
    if "within_days" in params:
        since = utcnow() - dt.timedelta(days=int(params["within_days"]))
        conds.append(Cond("closed_at", "ge", since))
    return _deals(conds)


def segment_conditions() -> list[SegmentCondition]:
    """The conditions of the ``crmkit_segment_conditions`` hook."""
    return [
        SegmentCondition(
            name="sales.open_deal",
            description="is the primary contact of an open deal "
            "(params: pipeline, stages)",
            build=open_deal,
            params_schema=OPEN_DEAL_PARAMS,
        ),
        SegmentCondition(
            name="sales.won_deal",
            description="is the primary contact of a won deal (params: within_days)",
            build=won_deal,
            params_schema=WON_DEAL_PARAMS,
        ),
    ]
