"""Configuration read once per batch of received messages.

``flow.after_receive_batch`` opens a :func:`scope`; inside it the steps' configuration reads
(routing rules, an account's automatic actions, skills bot and schedule) are answered from
the first read instead of one query per message. Outside a scope every read goes to the
database, as before. A scope lives inside one transaction, so what it keeps cannot change
under it in a way the one-by-one path would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_cache: ContextVar[dict[Hashable, Any] | None] = ContextVar("workflow_batch_cache", default=None)


@contextmanager
def scope(seed: dict[Hashable, Any] | None = None) -> Iterator[None]:
    """Cache configuration reads for the block (nested scopes share the outer one)."""
    if _cache.get() is not None:
        yield
        return
    token = _cache.set(dict(seed or {}))
    try:
        yield
    finally:
        _cache.reset(token)


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, once per scope and key; every time outside a scope."""
    store = _cache.get()
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    return store[key]  # type: ignore[no-any-return]
