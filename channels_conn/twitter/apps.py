from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TwitterConfig(AppConfig):
    """X's own tables (poll state, received events) live in this sub-app of the channels, so
    its migrations stay apart from the other providers'."""

    name = "channels_conn.twitter"
    label = "twitter"
    verbose_name = _("Twitter/X")

    def ready(self) -> None:
        from channels_conn.base import register
        from channels_conn.twitter.connector import twitter_connector

        register(twitter_connector)
