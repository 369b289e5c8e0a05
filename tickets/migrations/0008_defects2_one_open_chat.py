"""A chat account keeps one open, unmerged ticket per customer (ticket_one_open_chat);
email may keep several. Message history records who retried a failed send."""

from django.db import migrations, models


# Row-level security is forced on the owner too: the backfill sees every tenant through the
# bypass switch, set for its own transaction only.
BACKFILL = """
BEGIN;
SELECT set_config('app.bypass_rls', 'on', true);
UPDATE tickets_ticket t SET single_open = true
FROM channels_conn_channelaccount a
WHERE a.id = t.account_id AND a.kind <> 'email'
  AND NOT (
    t.status = 'open' AND t.merged_into_id IS NULL AND EXISTS (
      SELECT 1 FROM tickets_ticket o
      WHERE o.tenant_id = t.tenant_id AND o.customer_id = t.customer_id
        AND o.account_id = t.account_id AND o.status = 'open'
        AND o.merged_into_id IS NULL AND o.id > t.id
    )
  );
COMMIT;
"""


class Migration(migrations.Migration):
    # Each step commits on its own: the backfill's UPDATE must not leave deferred trigger
    # events pending when the index is built.
    atomic = False

    dependencies = [
        ("tickets", "0007_merge_security_xposts"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="single_open",
            field=models.BooleanField(default=False, editable=False),
        ),
        # Chat tickets get the flag. Of open duplicates that the old reopen could leave, only
        # the newest does, so the unique index can be built; the service refuses new ones.
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Ticket creado"),
                    ("message_in", "Mensaje recibido"),
                    ("message_out", "Respuesta enviada"),
                    ("send_failed", "Envío fallido"),
                    ("send_retried", "Envío reintentado"),
                    ("assigned", "Asignación"),
                    ("status", "Estado"),
                    ("important", "Marcado importante"),
                    ("sentiment", "Sentimiento"),
                    ("metadata", "Tipificación"),
                    ("customer_metadata", "Datos del cliente"),
                    ("merged", "Fusión"),
                    ("escalated", "Escalado"),
                    ("comment", "Comentario"),
                    ("sla", "SLA"),
                    ("bot", "Bot"),
                    ("split", "Mensaje separado"),
                    ("department", "Departamento"),
                    ("routed", "Regla de enrutamiento"),
                    ("automation", "Acción automática"),
                    ("identity", "Identidad vinculada"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("merged_into__isnull", True), ("single_open", True), ("status", "open")
                ),
                fields=("tenant", "customer", "account"),
                name="ticket_one_open_chat",
            ),
        ),
    ]
