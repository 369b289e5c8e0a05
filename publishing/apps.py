from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    """The «Publicaciones programadas» page and the publisher of scheduled posts."""

    name = "publishing"
    verbose_name = _("Publicaciones programadas")
