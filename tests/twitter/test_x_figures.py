"""How much one poll costs: database queries per mention filed (pinned, so an N+1 in the
ingestion shows), printed with ``pytest tests/twitter/test_x_figures.py -s``."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_conn.twitter.models import TwitterState
from channels_conn.twitter.poll import poll_account
from tests.xapi import FakeX

pytestmark = pytest.mark.django_db(transaction=True)

MENTIONS = 60
MAX_QUERIES_PER_MENTION = 40  # message_receive's own work (customer, ticket, SLA, flow, push)


def test_queries_per_mention(x_account, x_api: FakeX):
    TwitterState.objects.create(tenant_id=x_account.tenant_id, account=x_account, since_id="1")
    x_api.page_size = 100
    authors = [x_api.user(f"cliente_{n}") for n in range(MENTIONS // 2)]
    for n in range(MENTIONS):
        x_api.mention(authors[n % len(authors)], f"@TiendaDemoCL consulta {n}")
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = poll_account(x_account)
    seconds = time.perf_counter() - start
    assert result.processed == MENTIONS
    per_mention = len(queries) / MENTIONS
    print(
        f"\nX poll: {MENTIONS} mentions ({len(authors)} customers) filed in {seconds:.2f} s, "
        f"{len(queries)} queries ({per_mention:.1f} per mention)"
    )
    assert per_mention <= MAX_QUERIES_PER_MENTION
