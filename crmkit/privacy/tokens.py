"""Signed, expiring confirmation tokens for double opt-in.

A token names the pending consent entry it confirms and the moment it stops
being valid, signed with the CRM's secret:
``c1.<pending entry id>.<expiry, Unix seconds>.<signature>``. It carries no
personal values, so it can go into a confirmation link as it is. The
signature makes forging or changing one detectable; the ledger makes each
token single-use (a granted entry ``confirms`` the pending one).
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from crmkit.errors import ValidationError
from crmkit.privacy.keys import sign, signature_matches

VERSION = "c1"
_PURPOSE = "consent-confirm"  # signatures made for other things never verify as a token
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@attrs.frozen
class ConfirmToken:
    """What a valid token says: which pending entry, valid until when."""

    pending_id: str
    expires_at: dt.datetime


def _refuse(reason: str) -> ValidationError:
    return ValidationError("privacy.consent", "token", reason)


def _message(pending_id: str, expires: int) -> str:
    return f"{_PURPOSE}:{VERSION}:{pending_id}:{expires}"


def make_token(secret: bytes, pending_id: str, expires_at: dt.datetime) -> str:
    """The token confirming ``pending_id`` until ``expires_at`` (kept to the second)."""
    expires = int(expires_at.timestamp())
    signature = sign(secret, _message(pending_id, expires))
    return f"{VERSION}.{pending_id}.{expires}.{signature}"


def read_token(secret: bytes, token: str, now: dt.datetime) -> ConfirmToken:
    """Check a token's form, signature and expiry at ``now``; what it confirms.

    Raises :class:`ValidationError` (entity ``privacy.consent``, field
    ``token``) saying which check failed. Whether the token was already used
    is the ledger's to check.
    """
    parts = token.strip().split(".")
    if (
        len(parts) != 4
        or parts[0] != VERSION
        or not _ID.match(parts[1])
        or not parts[2].isdigit()
        or not _SIGNATURE.match(parts[3])
    ):
        raise _refuse(
            "malformed confirmation token; use the whole token printed by "
            "'crmkit consent request' (it starts with 'c1.')"
        )
    pending_id, expires, signature = parts[1], int(parts[2]), parts[3]
    if not signature_matches(secret, _message(pending_id, expires), signature):
        raise _refuse(
            "the confirmation token's signature does not match (it was changed, forged or "
            "made by another CRM); request a new one with 'crmkit consent request'"
        )
    expires_at = dt.datetime.fromtimestamp(expires, dt.UTC)
    if now >= expires_at:
        raise _refuse(
            f"the confirmation token expired at {expires_at:%Y-%m-%d %H:%M} UTC; "
            "request a new one with 'crmkit consent request'"
        )
    return ConfirmToken(pending_id, expires_at)
