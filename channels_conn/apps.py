from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConnConfig(AppConfig):
    name = "channels_conn"
    verbose_name = _("Canales")

    def ready(self) -> None:
        # Each channel's connector sends for its kind (channels_conn.base is the registry).
        from channels_conn.base import register
        from channels_conn.email.smtp import smtp_connector
        from channels_conn.webchat.connector import webchat_connector
        from channels_conn.whatsapp import window
        from deskconfig.kinds import ChannelKind
        from tickets import hooks

        register(smtp_connector)
        register(webchat_connector)
        # tickets applies WhatsApp's 24-hour window to answers without importing it.
        hooks.register_send_rule(ChannelKind.WHATSAPP, window.send_rule)
