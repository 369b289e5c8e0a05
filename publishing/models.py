"""The tenant's publishing setting (the posts themselves are ``tickets.ScheduledPost``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TenantModel

DEFAULT_MISSED_AFTER = 60  # minutes


class PublishingSettings(TenantModel):
    """One row per tenant (absent: the defaults)."""

    missed_after_minutes = models.PositiveIntegerField(
        _("no publicar con más de (minutos) de atraso"),
        default=DEFAULT_MISSED_AFTER,
        help_text=_(
            "Tras una caída, lo que debió salir hace más que esto no se publica: queda como "
            "«no publicado a tiempo»."
        ),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="publishing_settings_one")]
