"""X's «reconectar» reason lives on the account now (channels_conn 0007 moved it there)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("twitter", "0001_initial"),
        ("channels_conn", "0007_reconnect5_reconnect_reason"),
    ]

    operations = [
        migrations.RemoveField(model_name="twitterstate", name="reconnect_reason"),
    ]
