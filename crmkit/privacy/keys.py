"""The CRM's privacy secret and what is derived from it: suppression keys, signatures.

The secret comes from ``CRMKIT_SECRET`` or ``[privacy] secret`` when the
project sets one (keep it outside the database, so a copy of the database
alone cannot test guesses against suppression keys); otherwise a random one is
made on first use and stored in the ``privacy.key`` table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from crmkit.entities.types import EntityType
from crmkit.privacy.entities import PrivacyKey
from crmkit.storage.base import StorageReader, StorageTransaction

SECRET_NAME = "secret"


def stored_secret(reader: StorageReader, etype: EntityType) -> bytes | None:
    """The secret kept in the database, if one was made."""
    row = reader.get_by(etype, "name", SECRET_NAME)
    return base64.b64decode(row["value"]) if row is not None else None


def ensure_secret(tx: StorageTransaction, etype: EntityType) -> bytes:
    """The database's secret, made and stored in ``tx`` if there is none yet."""
    found = stored_secret(tx, etype)
    if found is not None:
        return found
    value = secrets.token_bytes(32)
    key = PrivacyKey(name=SECRET_NAME, value=base64.b64encode(value).decode("ascii"))
    tx.add(etype, etype.to_row(key))
    return value


def suppression_key(secret: bytes, kind: str, value: str) -> str:
    """The keyed hash standing in for an erased person's normalised email or phone."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def sign(secret: bytes, message: str) -> str:
    """An HMAC-SHA256 signature of ``message``, URL-safe base64 without padding."""
    digest = hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature_matches(secret: bytes, message: str, signature: str) -> bool:
    """Whether ``signature`` is ``sign(secret, message)``, compared in constant time."""
    return hmac.compare_digest(sign(secret, message), signature)
