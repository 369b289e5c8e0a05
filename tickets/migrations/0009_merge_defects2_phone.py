"""Two branches each added a tickets migration 0008: neither depends on the other."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_defects2_one_open_chat"),
        ("tickets", "0008_phone_search"),
    ]

    operations: list[migrations.operations.base.Operation] = []
