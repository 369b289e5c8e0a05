"""Every change to tickets: one function each, one transaction, a history event, a live event
after the commit. Views, tasks and channel connectors call these and nothing else writes.

One module per subject: :mod:`.customers`, :mod:`.receive` (and :mod:`.receive_batch`, the
same for a batch of messages in a fixed number of queries), :mod:`.messages` (sending and
delivery), :mod:`.actions` (what agents do to a ticket), :mod:`.merge` (merge and split), and
:mod:`.base` (what they share). Their public functions are re-exported here, so
``from tickets.services import message_receive`` and ``services.message_receive`` keep working.

Locks, when several rows are involved, are always taken in the same order: counter, customer,
ticket (lower id first), message.
"""

from tickets.services.actions import (
    MENTION,
    comment_add,
    ticket_assign,
    ticket_close,
    ticket_create,
    ticket_escalate,
    ticket_mark_important,
    ticket_notify,
    ticket_reopen,
    ticket_set_department,
    ticket_set_metadata,
    ticket_set_sentiment,
)
from tickets.services.base import (
    ESCALATION_MESSAGES,
    PREVIEW_LENGTH,
    ActionRefused,
    Inbound,
    IncomingFile,
    OutboundTemplate,
    Received,
    forbidden_words_in,
)
from tickets.services.customers import (
    LINKABLE_KINDS,
    customer_link_identity,
    customer_resolve,
    customer_save,
    customer_set_bot,
    customer_set_metadata,
    customer_update,
)
from tickets.services.merge import message_split, ticket_merge
from tickets.services.messages import (
    message_accepted,
    message_deliver,
    message_fail,
    message_retry,
    message_retrying,
    message_send,
    message_update_status,
)
from tickets.services.receive import message_receive
from tickets.services.receive_batch import ReceiveItem, messages_receive_batch

__all__ = [
    "ESCALATION_MESSAGES",
    "LINKABLE_KINDS",
    "MENTION",
    "PREVIEW_LENGTH",
    "ActionRefused",
    "Inbound",
    "IncomingFile",
    "OutboundTemplate",
    "ReceiveItem",
    "Received",
    "comment_add",
    "customer_link_identity",
    "customer_resolve",
    "customer_save",
    "customer_set_bot",
    "customer_set_metadata",
    "customer_update",
    "forbidden_words_in",
    "message_accepted",
    "message_deliver",
    "message_fail",
    "message_receive",
    "message_retry",
    "message_retrying",
    "message_send",
    "message_split",
    "message_update_status",
    "messages_receive_batch",
    "ticket_assign",
    "ticket_close",
    "ticket_create",
    "ticket_escalate",
    "ticket_mark_important",
    "ticket_merge",
    "ticket_notify",
    "ticket_reopen",
    "ticket_set_department",
    "ticket_set_metadata",
    "ticket_set_sentiment",
]
