"""Fixtures of the analytics tests: those of the tickets tests (tenant A, an account, the bot,
a recording connector), and a helper that compares the rollups with a recomputation."""

from __future__ import annotations

from tests.tickets.conftest import account, bot, connector, media_root  # noqa: F401
