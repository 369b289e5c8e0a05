from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConnConfig(AppConfig):
    name = "channels_conn"
    verbose_name = _("Canales")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from channels_conn.base import register
        from channels_conn.email.smtp import smtp_connector
        from channels_conn.instagram.connector import instagram_connector
        from channels_conn.messenger import window as meta_window
        from channels_conn.messenger.connector import messenger_connector
        from channels_conn.meta.routing import accounts_changed
        from channels_conn.webchat.connector import webchat_connector
        from channels_conn.whatsapp import window
        from channels_conn.whatsapp.connector import whatsapp_connector
        from deskconfig.accounts import ChannelAccount
        from deskconfig.kinds import ChannelKind
        from tickets import hooks

        # Meta's webhook keeps a per-process routing table: an account saved or deleted
        # anywhere drops it in every process.
        post_save.connect(accounts_changed, sender=ChannelAccount, dispatch_uid="meta-routing")
        post_delete.connect(accounts_changed, sender=ChannelAccount, dispatch_uid="meta-routing-d")

        # Each channel's connector sends for its kind (channels_conn.base is the registry).
        register(smtp_connector)
        register(webchat_connector)
        register(whatsapp_connector)
        register(messenger_connector)
        register(instagram_connector)
        # tickets applies WhatsApp's 24-hour window to answers without importing it.
        hooks.register_send_rule(ChannelKind.WHATSAPP, window.send_rule)
        # Messenger's and Instagram's 24-hour / 7-day windows, the same way.
        hooks.register_send_rule(ChannelKind.FACEBOOK, meta_window.send_rule)
        hooks.register_send_rule(ChannelKind.INSTAGRAM, meta_window.send_rule)
