"""Routing rules: the first active rule whose conditions match a new ticket's first message
sets its department, marks it important or sends it to an agent.

A rule's conditions are "any of" lists (channel kinds, accounts, keywords), all of them
required together; an empty list matches anything. Keywords are whole words, case- and
accent-insensitive, like forbidden words.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deskconfig.models import RoutingRule
from tickets.forbidden import find_forbidden
from tickets.history import event_record
from tickets.models import EventKind
from workflow.batch_cache import cached

if TYPE_CHECKING:
    from tickets.models import Message, Ticket

log = logging.getLogger(__name__)

ROUTED = EventKind.ROUTED  # the history event of a ticket a rule routed


@dataclass(frozen=True)
class Sample:
    """What a rule looks at: the channel kind, the account and the first message's text."""

    kind: str
    account_id: int | None
    text: str


def rule_matches(rule: RoutingRule, sample: Sample) -> bool:
    if rule.channels and sample.kind not in rule.channels:
        return False
    if rule.accounts and sample.account_id not in rule.accounts:
        return False
    return not rule.keywords or bool(find_forbidden(sample.text, rule.keywords))


def active_rules() -> list[RoutingRule]:
    return cached(
        "routing_rules",
        lambda: list(
            RoutingRule.objects.filter(active=True)
            .select_related("set_department", "assign_to")
            .order_by("position", "id")
        ),
    )


def first_match(rules: Iterable[RoutingRule], sample: Sample) -> RoutingRule | None:
    """The first rule (in the given order) that matches; inactive rules never do."""
    return next((r for r in rules if r.active and rule_matches(r, sample)), None)


def matched_keywords(rule: RoutingRule, text: str) -> list[str]:
    return find_forbidden(text, rule.keywords) if rule.keywords else []


def apply_rules(ticket: Ticket, message: Message) -> None:
    """Route a NEW ticket by its first message. Runs inside ``message_receive``'s transaction
    (see workflow/flow.py), which saves nothing after this: changes are saved here, on
    ``ticket`` itself, so the steps after this one and the live push see them."""
    from tickets.models import EventKind
    from tickets.services import ActionRefused, ticket_assign

    text = "\n".join(part for part in (ticket.subject, message.text) if part)
    sample = Sample(kind=ticket.account.kind, account_id=ticket.account_id, text=text)
    rule = first_match(active_rules(), sample)
    if rule is None:
        return
    changed: list[str] = []
    if rule.set_department_id and ticket.department_id != rule.set_department_id:
        ticket.department_id = rule.set_department_id
        changed.append("department")
    if rule.mark_important and not ticket.important:
        ticket.important = True
        changed.append("important")
    if changed:
        ticket.save(update_fields=changed)
    event = {
        "rule": rule.pk,
        "rule_name": rule.name,
        "keywords": matched_keywords(rule, text),
    }
    if "department" in changed and rule.set_department is not None:
        event.update(department=rule.set_department_id, department_name=rule.set_department.name)
    # Inside message_receive, which pushes the ticket once routed: no push of their own.
    event_record(ticket=ticket, kind=ROUTED, data=event, push=False)
    if "important" in changed:
        event_record(
            ticket=ticket,
            kind=EventKind.IMPORTANT,
            data={"before": False, "after": True, "rule": rule.pk},
            push=False,
        )
    if rule.assign_to is not None and ticket.assignee_id is None:
        try:
            # The service records the event and tells the agent; it saves a fresh copy of
            # the row, so the ticket the flow holds is brought up to date by hand.
            assigned = ticket_assign(ticket=ticket, assignee=rule.assign_to, actor=None)
        except ActionRefused:
            # A deactivated agent: the assignment engine places the ticket instead.
            log.info("routing rule %s: %s cannot receive tickets", rule.pk, rule.assign_to_id)
        else:
            ticket.assignee = assigned.assignee
            ticket.updated_at = assigned.updated_at
