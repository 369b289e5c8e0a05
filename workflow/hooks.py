"""The workflow as ``tickets`` sees it (registered in :class:`workflow.apps.WorkflowConfig`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workflow import assignment, flow

if TYPE_CHECKING:
    from helpdesk.models import User
    from tickets.hooks import Arrival
    from tickets.models import Message, Ticket


class DeskWorkflow:
    def after_receive(self, ticket: Ticket, message: Message, *, created: bool) -> None:
        flow.after_receive(ticket, message, created=created)

    def after_receive_batch(self, arrivals: Sequence[Arrival]) -> None:
        flow.after_receive_batch(arrivals)

    def request_assignment(self, ticket: Ticket) -> None:
        assignment.request_assignment(ticket)

    def drain_queue(self, tenant_id: int) -> None:
        assignment.drain_queue(tenant_id)

    def assignment_refusal(self, *, assignee: User, ticket: Ticket) -> str | None:
        return assignment.refusal_for(assignee=assignee, ticket=ticket)

    def assignable_users(self, ticket: Ticket) -> list[User]:
        return assignment.assignable_users(ticket)
