"""Storage: the backend protocol, query descriptions and the built-in backends."""

from crmkit.storage.base import (
    DeliveryFailure,
    Row,
    StorageBackend,
    StorageReader,
    StorageTransaction,
    StoredEvent,
)
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query, where_from

__all__ = [
    "AllOf",
    "AnyOf",
    "Cond",
    "DeliveryFailure",
    "Filter",
    "Query",
    "Row",
    "StorageBackend",
    "StorageReader",
    "StorageTransaction",
    "StoredEvent",
    "where_from",
]
