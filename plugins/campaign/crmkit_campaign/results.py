"""Campaign results per step and variant, counted by the storage.

For each step and variant a report gives:

- ``sent``: messages handed to the channel (deliveries ``sent`` or later
  ``bounced``); ``delivered`` = sent - bounced; ``bounced``; ``failed`` and
  ``in_doubt`` (a send interrupted while the adapter had the message);
- ``replied``, ``unsubscribed``, ``complained``: messages with at least one such
  response (so a person who replied twice counts once);
- ``converted_first`` / ``converted_last``: messages credited with a won deal
  as its first or last touch;
- per step, the recipients left out, by reason (the privacy rule, ``no_address``,
  ``blocked_address``, ``stopped:replied`` ...).

Every figure is one ``GROUP BY`` query (``reader.aggregate``): nothing is loaded
person by person. An A/B step also gets a verdict (:meth:`Results.ab_winner`):
the variant with the better rate of the campaign's metric, once each variant
reached :data:`MIN_SAMPLE` delivered messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import NotFound, ValidationError
from crmkit.storage import Aggregate, AllOf, Cond, Filter, GroupKey, Measure, Related
from crmkit_campaign.entities import AB_METRICS, VARIANTS, Campaign, Step
from crmkit_campaign.records import campaign_steps, find_campaign

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage import StorageReader

DELIVERY = "campaign.delivery"
RESPONSE = "campaign.response"
EXCLUSION = "campaign.exclusion"
MIN_SAMPLE = 100
"""Delivered messages each variant needs before an A/B test names a winner: below it,
a difference of a few replies is chance, not a result."""
HANDED_OVER = ("sent", "bounced")
RESPONSE_COUNTS: dict[str, Filter] = {
    "replied": Cond("kind", "eq", "reply"),
    "unsubscribed": Cond("kind", "eq", "unsubscribe"),
    "complained": Cond("kind", "eq", "complaint"),
    "converted_first": AllOf((Cond("kind", "eq", "conversion"), Cond("touch", "eq", "first"))),
    "converted_last": AllOf((Cond("kind", "eq", "conversion"), Cond("touch", "eq", "last"))),
}
"""Report column -> the responses a message needs to count in it."""
METRIC_RESPONSES: dict[str, Filter] = {
    "replied": Cond("kind", "eq", "reply"),
    "converted": Cond("kind", "eq", "conversion"),
    "unsubscribed": Cond("kind", "eq", "unsubscribe"),
}
"""A/B metric -> the responses that count for it."""
LOWER_IS_BETTER = ("unsubscribed",)
_BY_VARIANT = (GroupKey("step_id"), GroupKey("variant"))


@attrs.frozen
class VariantResult:
    """The figures of one variant of one step."""

    position: int
    step_id: str
    variant: str
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    in_doubt: int = 0
    replied: int = 0
    unsubscribed: int = 0
    complained: int = 0
    converted_first: int = 0
    converted_last: int = 0


@attrs.frozen
class AbVerdict:
    """The outcome of a step's A/B test on one metric.

    ``winner`` is ``"A"``, ``"B"`` or ``None`` (no winner yet, or a tie);
    rates are per delivered message (``None`` before anything was delivered).
    """

    position: int
    metric: str
    winner: str | None
    rate_a: float | None
    rate_b: float | None
    delivered_a: int
    delivered_b: int
    verdict: str


@attrs.frozen
class CampaignReport:
    """A campaign's figures: per step and variant, exclusions per step, A/B verdicts."""

    campaign: Campaign
    variants: tuple[VariantResult, ...]
    excluded: Mapping[int, Mapping[str, int]]
    """Step position -> reason -> how many were left out."""
    ab: tuple[AbVerdict, ...]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {
            "campaign": {
                "id": self.campaign.id,
                "name": self.campaign.name,
                "status": self.campaign.status,
                "purpose": self.campaign.purpose,
                "channel": self.campaign.channel,
            },
            "steps": [attrs.asdict(v) for v in self.variants],
            "excluded": {str(k): dict(v) for k, v in self.excluded.items()},
            "ab": [attrs.asdict(v) for v in self.ab],
        }


def _per_variant(
    reader: StorageReader, crm: CRM, where: Filter, group_by: tuple[GroupKey, ...] = _BY_VARIANT
) -> list[dict[str, Any]]:
    return reader.aggregate(
        crm.entity_type(DELIVERY),
        Aggregate(where=where, group_by=group_by, measures=(Measure("n", "count"),)),
    )


def _responded(campaign_id: str, responses: Filter, *more: Filter) -> Filter:
    """Deliveries of the campaign with at least one response matching ``responses``."""
    return AllOf(
        (Cond("campaign_id", "eq", campaign_id), *more, Related(RESPONSE, "delivery_id", responses))
    )


class Results:
    """Reports on campaigns."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def report(self, campaign: str) -> CampaignReport:
        """The figures of ``campaign`` (id or name) per step and variant."""
        with self._crm.backend.read() as reader:
            owner = find_campaign(reader, self._crm, campaign)
            steps = campaign_steps(reader, self._crm, owner.id)
            figures = self._figures(reader, owner)
            excluded = self._excluded(reader, owner, steps)
            ab = tuple(
                self._verdict(reader, owner, step, owner.ab_metric or "replied", MIN_SAMPLE)
                for step in steps
                if step.split_b > 0
            )
        variants = tuple(
            _variant_result(step, variant, figures.get((step.id, variant), {}))
            for step in steps
            for variant in _variants_of(step, figures)
        )
        return CampaignReport(owner, variants, excluded, ab)

    def ab_winner(
        self, campaign: str, step: int, metric: str | None = None, *, min_sample: int = MIN_SAMPLE
    ) -> AbVerdict:
        """Which variant of step number ``step`` does better on ``metric``.

        ``metric`` (default: the campaign's ``ab_metric``, else ``replied``):
        ``replied`` and ``converted`` are better higher, ``unsubscribed``
        lower. No winner while a variant has fewer than ``min_sample``
        delivered messages, nor on a tie.
        """
        with self._crm.backend.read() as reader:
            owner = find_campaign(reader, self._crm, campaign)
            chosen = metric or owner.ab_metric or "replied"
            if chosen not in AB_METRICS:
                raise ValidationError(
                    "campaign.campaign", "ab_metric", f"{chosen!r}: use one of "
                    f"{', '.join(AB_METRICS)}"
                )
            found = [s for s in campaign_steps(reader, self._crm, owner.id) if s.position == step]
            if not found:
                raise NotFound("campaign.step", f"{owner.name} #{step}")
            return self._verdict(reader, owner, found[0], chosen, min_sample)

    def _figures(
        self, reader: StorageReader, campaign: Campaign
    ) -> dict[tuple[str, str], dict[str, int]]:
        figures: dict[tuple[str, str], dict[str, int]] = {}

        def add(rows: list[dict[str, Any]], column: str) -> None:
            for row in rows:
                cell = figures.setdefault((row["step_id"], row["variant"]), {})
                cell[column] = cell.get(column, 0) + int(row["n"])

        by_status = _per_variant(
            reader,
            self._crm,
            Cond("campaign_id", "eq", campaign.id),
            (*_BY_VARIANT, GroupKey("status")),
        )
        for row in by_status:
            cell = figures.setdefault((row["step_id"], row["variant"]), {})
            status = row["status"]
            if status in HANDED_OVER:
                cell["sent"] = cell.get("sent", 0) + int(row["n"])
            if status != "sent":
                cell[status] = cell.get(status, 0) + int(row["n"])
        for column, responses in RESPONSE_COUNTS.items():
            add(_per_variant(reader, self._crm, _responded(campaign.id, responses)), column)
        return figures

    def _excluded(
        self, reader: StorageReader, campaign: Campaign, steps: list[Step]
    ) -> dict[int, dict[str, int]]:
        rows = reader.aggregate(
            self._crm.entity_type(EXCLUSION),
            Aggregate(
                where=Cond("campaign_id", "eq", campaign.id),
                group_by=(GroupKey("step_id"), GroupKey("reason")),
                measures=(Measure("n", "count"),),
            ),
        )
        position = {step.id: step.position for step in steps}
        out: dict[int, dict[str, int]] = {}
        for row in rows:
            where = position.get(row["step_id"])
            if where is not None:
                out.setdefault(where, {})[row["reason"]] = int(row["n"])
        return out

    def _verdict(
        self, reader: StorageReader, campaign: Campaign, step: Step, metric: str, min_sample: int
    ) -> AbVerdict:
        this_step = Cond("step_id", "eq", step.id)
        delivered = {
            row["variant"]: int(row["n"])
            for row in _per_variant(
                reader,
                self._crm,
                AllOf((Cond("campaign_id", "eq", campaign.id), this_step,
                       Cond("status", "eq", "sent"))),
                (GroupKey("variant"),),
            )
        }
        hits = {
            row["variant"]: int(row["n"])
            for row in _per_variant(
                reader,
                self._crm,
                _responded(campaign.id, METRIC_RESPONSES[metric], this_step,
                           Cond("status", "eq", "sent")),
                (GroupKey("variant"),),
            )
        }
        return decide(step.position, metric, delivered, hits, min_sample)


def decide(
    position: int,
    metric: str,
    delivered: Mapping[str, int],
    hits: Mapping[str, int],
    min_sample: int = MIN_SAMPLE,
) -> AbVerdict:
    """The A/B verdict from delivered messages and hits per variant (pure arithmetic)."""
    n_a, n_b = delivered.get("A", 0), delivered.get("B", 0)
    rate_a = hits.get("A", 0) / n_a if n_a else None
    rate_b = hits.get("B", 0) / n_b if n_b else None
    if rate_a is None or rate_b is None or min(n_a, n_b) < min_sample:
        verdict = (
            f"no winner yet: each variant needs {min_sample} delivered messages "
            f"(A has {n_a}, B has {n_b})"
        )
        return AbVerdict(position, metric, None, rate_a, rate_b, n_a, n_b, verdict)
    if rate_a == rate_b:
        return AbVerdict(position, metric, None, rate_a, rate_b, n_a, n_b, "a tie")
    lower = metric in LOWER_IS_BETTER
    winner = "A" if (rate_a < rate_b) == lower else "B"
    verdict = f"variant {winner} wins on {metric} ({'lower' if lower else 'higher'} is better)"
    return AbVerdict(position, metric, winner, rate_a, rate_b, n_a, n_b, verdict)


def _variants_of(step: Step, figures: Mapping[tuple[str, str], Any]) -> list[str]:
    """Variant A always; B when the step tests one or has any B delivery."""
    return [v for v in VARIANTS if v == "A" or step.split_b > 0 or (step.id, v) in figures]


def _variant_result(step: Step, variant: str, cell: Mapping[str, int]) -> VariantResult:
    sent, bounced = cell.get("sent", 0), cell.get("bounced", 0)
    return VariantResult(
        position=step.position,
        step_id=step.id,
        variant=variant,
        sent=sent,
        delivered=sent - bounced,
        bounced=bounced,
        failed=cell.get("failed", 0),
        in_doubt=cell.get("in_doubt", 0),
        replied=cell.get("replied", 0),
        unsubscribed=cell.get("unsubscribed", 0),
        complained=cell.get("complained", 0),
        converted_first=cell.get("converted_first", 0),
        converted_last=cell.get("converted_last", 0),
    )
