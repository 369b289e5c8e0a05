"""Two small partial indexes for the SLA columns "at risk" / "on time" (the clocks still
running). Without them such a column read every waiting ticket (waiting sort: the ticket_waiting
index starts with the longest waits, long breached) or sorted every unflagged one (updated
sort). Each holds only the open tickets whose SLA clock runs and is not flagged breached, so
they stay tiny and cost almost nothing to keep up.

Raw SQL on purpose: the model's Meta does not declare them (so the ORM state is unchanged).
"""

from django.db import migrations

RUNNING = "status = 'open' AND NOT sla_breached AND sla_due_at IS NOT NULL"

SQL = f"""
CREATE INDEX IF NOT EXISTS ticket_sla_running
    ON tickets_ticket (tenant_id, waiting_since, id)
    WHERE awaiting_response AND {RUNNING};
CREATE INDEX IF NOT EXISTS ticket_sla_running_updated
    ON tickets_ticket (tenant_id, updated_at DESC, id DESC)
    WHERE {RUNNING};
"""

REVERSE = """
DROP INDEX IF EXISTS ticket_sla_running;
DROP INDEX IF EXISTS ticket_sla_running_updated;
"""


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_event_kinds")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
