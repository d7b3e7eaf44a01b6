"""Storage: the backend protocol, query descriptions and the built-in backends."""

from crmkit.storage.base import (
    DeliveryFailure,
    Row,
    StorageBackend,
    StorageReader,
    StorageTransaction,
    StoredEvent,
    check_expect,
)
from crmkit.storage.query import (
    AggFn,
    Aggregate,
    AllOf,
    AnyOf,
    Cond,
    DatePart,
    Filter,
    GroupKey,
    Measure,
    Not,
    Query,
    Related,
    where_from,
)

__all__ = [
    "AggFn",
    "Aggregate",
    "AllOf",
    "AnyOf",
    "Cond",
    "DatePart",
    "DeliveryFailure",
    "Filter",
    "GroupKey",
    "Measure",
    "Not",
    "Query",
    "Related",
    "Row",
    "StorageBackend",
    "StorageReader",
    "StorageTransaction",
    "StoredEvent",
    "check_expect",
    "where_from",
]
