from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdminConfigConfig(AppConfig):
    name = "admin_config"
    verbose_name = _("Administración")
