"""Normalizing customer identities and search input: e-mail, phone, handles, RUT."""

from __future__ import annotations

import re

from stdnum.cl import rut as cl_rut
from stdnum.exceptions import ValidationError as StdnumError

from helpdesk.identity import normalize_email
from tickets.models import IdentityKind


def normalize_identity(kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    if kind == IdentityKind.PHONE:
        return re.sub(r"\D", "", value)  # E.164 digits, no "+"
    if kind == IdentityKind.TWITTER:
        return value.lstrip("@").lower()
    return value


def display_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.PHONE:
        return f"+{value}"
    if kind == IdentityKind.TWITTER:
        return f"@{value}"
    return value


def normalize_rut(value: str) -> str:
    """'12.345.678-5' -> '123456785'. Raises ValueError with a message for the user."""
    try:
        return str(cl_rut.validate(value))
    except StdnumError as exc:
        raise ValueError(str(exc)) from exc


def format_rut(value: str) -> str:
    return str(cl_rut.format(value)) if value else ""


def looks_like_rut(value: str) -> bool:
    return bool(re.fullmatch(r"\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]", value.strip()))
