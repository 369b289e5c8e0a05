"""The calls ``tickets`` makes into the layers above it, without importing them.

``tickets`` sits below the workflow (routing, automatic replies, skills bot, assignment) and
the channels. When a ticket changes in a way they care about, the services call the hooks
here; the higher layers fill them in their ``AppConfig.ready()``:

- :class:`Workflow` is registered by ``workflow`` (one implementation: the desk's engine);
- a channel's rule for outgoing messages (WhatsApp's 24-hour window, Messenger's and
  Instagram's 24-hour / 7-day windows) is registered by
  ``channels_conn`` per channel kind, see :func:`register_send_rule`.

Without a registration (a project without those apps) nothing happens: no routing, no
automatic assignment, every channel accepts every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from helpdesk.models import User
    from tickets.models import Message, Ticket


@dataclass(frozen=True)
class Arrival:
    """One customer message a batch received (``messages_receive_batch``), saved with its
    ticket; ``auto_submitted``: a robot sent it (no automatic answer)."""

    ticket: Ticket
    message: Message
    created: bool
    auto_submitted: bool = False


class Workflow(Protocol):
    def after_receive(self, ticket: Ticket, message: Message, *, created: bool) -> None:
        """Inside ``message_receive``'s transaction, once the message and ticket are saved
        and before the live push (so agents see the ticket already routed)."""

    def after_receive_batch(self, arrivals: Sequence[Arrival]) -> None:
        """:meth:`after_receive` for a batch, in order, inside the batch's transaction
        (the configuration it reads is read once per batch)."""

    def request_assignment(self, ticket: Ticket) -> None:
        """An unassigned open ticket looks for an agent (after the commit)."""

    def drain_queue(self, tenant_id: int) -> None:
        """A slot became free: queued tickets may be placed (after the commit)."""

    def assignment_refusal(self, *, assignee: User, ticket: Ticket) -> str | None:
        """Why ``assignee`` may not take ``ticket`` now (None: they may)."""

    def assignable_users(self, ticket: Ticket) -> list[User]:
        """The people an agent may hand ``ticket`` to, for the ticket page's menu."""


class _NoWorkflow:
    def after_receive(self, ticket: Ticket, message: Message, *, created: bool) -> None:
        return None

    def after_receive_batch(self, arrivals: Sequence[Arrival]) -> None:
        return None

    def request_assignment(self, ticket: Ticket) -> None:
        return None

    def drain_queue(self, tenant_id: int) -> None:
        return None

    def assignment_refusal(self, *, assignee: User, ticket: Ticket) -> str | None:
        return None

    def assignable_users(self, ticket: Ticket) -> list[User]:
        return []


_workflow: Workflow = _NoWorkflow()


@dataclass(frozen=True)
class OutgoingAnswer:
    """The answer a channel's send rule judges before it is queued."""

    templated: bool = False
    public: bool = False
    reply_to: Message | None = None
    by_bot: bool = False


# (ticket, answer) -> why the answer may not be sent now, or None.
SendRule = Callable[["Ticket", OutgoingAnswer], "str | None"]
_send_rules: dict[str, SendRule] = {}


def register_workflow(implementation: Workflow) -> None:
    global _workflow
    _workflow = implementation


def workflow() -> Workflow:
    return _workflow


def register_send_rule(kind: str, rule: SendRule) -> None:
    """``rule`` decides, for tickets of channel ``kind``, whether an answer may go out now."""
    _send_rules[kind] = rule


def send_refusal(ticket: Ticket, answer: OutgoingAnswer) -> str | None:
    from deskconfig.reconnect import reconnect_refusal

    # Every channel's first rule: an account whose credentials the provider refused sends
    # nothing until an admin reconnects it (the agent reads why, never a generic error).
    refusal = reconnect_refusal(ticket.account)
    if refusal:
        return refusal
    rule = _send_rules.get(ticket.account.kind)
    return rule(ticket, answer) if rule is not None else None
