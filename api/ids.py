"""Identifiers: ULIDs for entities (they sort by time), short codes for people to read or type."""
import secrets

from ulid import ULID


def new_id() -> str:
    return str(ULID())


def pickup_code() -> str:
    """取货码 pickup code: 6 digits, read aloud at the gate. Unique within a round (see orders)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def join_key() -> str:
    """The secret behind a community's QR code. URL-safe, unguessable."""
    return secrets.token_urlsafe(12)


def invite_code() -> str:
    return secrets.token_urlsafe(16)
