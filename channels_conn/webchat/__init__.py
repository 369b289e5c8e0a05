"""The web chat channel: a widget on the tenant's site, a chat page, and a live socket."""
