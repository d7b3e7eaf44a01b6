"""Every built-in backend passes the storage contract, and so does one a plugin supplies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from crmkit.storage.base import StorageBackend
from crmkit.storage.memory import MemoryBackend
from crmkit.testing import BackendContract


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    def backend_url(self) -> str:
        return "memory://"


class TestSqliteBackend(BackendContract):
    @pytest.fixture
    def backend_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'contract.db'}"


class TestPostgresBackend(BackendContract):
    @pytest.fixture
    def backend_url(self, pg_url: str) -> str:
        return pg_url


class ScratchStorePlugin:
    """A third-party style plugin serving its own ``scratch://`` URLs."""

    def crmkit_storage_backend(self, url: str) -> StorageBackend | None:
        return MemoryBackend(url) if url.startswith("scratch://") else None


class TestPluginSuppliedBackend(BackendContract):
    @pytest.fixture
    def backend_url(self) -> str:
        return "scratch://contract"

    @pytest.fixture
    def backend_plugins(self) -> Sequence[str | tuple[str, object]]:
        return [("scratch", ScratchStorePlugin())]
