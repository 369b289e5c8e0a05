"""The one spelling of an identity key.

Login, the login lockout, customer search and every uniqueness check key a person or a customer
by their email address. If any of them spelled it differently (``Victim@`` and ``victim@``), an
attacker could start a fresh lockout counter per spelling, or two rows could claim one address.
So all of them call :func:`normalize_email`.
"""

from __future__ import annotations


def normalize_email(value: str | None) -> str:
    """Trimmed and in lower case (the local part is case-insensitive at every mail provider our
    customers use, and treating it so is what login has always done)."""
    return (value or "").strip().lower()
