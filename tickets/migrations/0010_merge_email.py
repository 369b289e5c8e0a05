"""The email branch's 0009 and the merge of the defects2 and phone branches: independent."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_email_message_automatic"),
        ("tickets", "0009_merge_defects2_phone"),
    ]

    operations: list[migrations.operations.base.Operation] = []
