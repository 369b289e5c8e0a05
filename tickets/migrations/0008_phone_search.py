"""Full-text search (issue 18): Spanish stemming that ignores accents for what people write
(messages, ticket subjects), and accent-free words for names, each behind a GIN index.

Messages keep their search vector in a stored generated column: ranking the matches of a
common word then reads each vector once instead of parsing every matching text again. The ORM
does not know the column (PostgreSQL fills it on every insert and update); tickets/search.py
reads it. Raw SQL on purpose, as in 0005.
"""

from django.db import migrations

SQL = """
CREATE TEXT SEARCH CONFIGURATION helpdesk_es (COPY = pg_catalog.spanish);
ALTER TEXT SEARCH CONFIGURATION helpdesk_es
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, spanish_stem;
CREATE TEXT SEARCH CONFIGURATION helpdesk_names (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION helpdesk_names
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, simple;

ALTER TABLE tickets_message ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('helpdesk_es'::regconfig, text)) STORED;
CREATE INDEX message_search ON tickets_message USING gin (search_vector);
CREATE INDEX ticket_subject_search ON tickets_ticket
    USING gin (to_tsvector('helpdesk_es'::regconfig, subject));
CREATE INDEX customer_name_search ON tickets_customer
    USING gin (to_tsvector('helpdesk_names'::regconfig, name));
"""

REVERSE = """
DROP INDEX IF EXISTS customer_name_search;
DROP INDEX IF EXISTS ticket_subject_search;
DROP INDEX IF EXISTS message_search;
ALTER TABLE tickets_message DROP COLUMN IF EXISTS search_vector;
DROP TEXT SEARCH CONFIGURATION IF EXISTS helpdesk_names;
DROP TEXT SEARCH CONFIGURATION IF EXISTS helpdesk_es;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_merge_security_xposts"),
        ("helpdesk", "0003_f_unaccent"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
