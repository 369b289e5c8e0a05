from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConnConfig(AppConfig):
    name = "channels_conn"
    verbose_name = _("Canales")
