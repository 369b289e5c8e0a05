"""The agents' pages: the column inbox, the ticket page, new ticket, search, and their
websockets. Above ``tickets`` (whose services and queries they call), the workflow and the
channels; the templates stay under ``tickets/templates/tickets/``."""
