"""Storage: the backend protocol, query descriptions and the built-in backends."""

from crmkit.storage.base import (
    DeliveryFailure,
    Row,
    StorageBackend,
    StorageReader,
    StorageTransaction,
    StoredEvent,
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
    "where_from",
]
