"""The inbox's live connection: one per open inbox tab."""

from helpdesk.consumers import TenantConsumer


class InboxConsumer(TenantConsumer):
    """Receives the tenant's events and forwards their rendered swaps to the page.

    The connection indicator turns green when the socket opens (see static/js/app.js).
    """
