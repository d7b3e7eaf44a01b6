"""Named conditions on contacts that plugins offer for building segments.

A plugin that knows something about people (the sales plugin knows who has an
open deal) exposes it as a :class:`SegmentCondition` from the
``crmkit_segment_conditions`` hook. Whoever builds a segment (the campaigns
plugin) picks conditions by name, checks their parameters against
``params_schema`` and turns them into one storage filter on contacts with
``build``, so the whole segment is answered by the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from crmkit.storage.query import Filter


def _no_params() -> Mapping[str, Any]:
    return {"type": "object", "additionalProperties": False}


@attrs.frozen
class SegmentCondition:
    """A named condition on contacts: ``build(params)`` gives the filter it stands for.

    ``name`` is namespaced by the plugin (``"sales.open_deal"``); ``description``
    says in one line who matches. ``params_schema`` is the JSON Schema of the
    parameters ``build`` takes (by default none). ``build`` returns a filter on
    the ``contact`` entity type, usually a :class:`crmkit.storage.Related` on the
    plugin's own records.
    """

    name: str
    description: str
    build: Callable[[Mapping[str, Any]], Filter]
    params_schema: Mapping[str, Any] = attrs.field(factory=_no_params)
