"""Two branches each added a tickets migration 0006: neither depends on the other."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_security_customer_contact_email"),
        ("tickets", "0006_xposts_scheduled_post_publishing"),
    ]

    operations: list[migrations.operations.base.Operation] = []
