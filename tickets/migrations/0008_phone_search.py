"""Full-text search (issue 18): Spanish stemming that ignores accents for what people write
(messages, ticket subjects), and accent-free words for names, each behind a GIN index.

Messages, subjects and names keep their search vector in a stored generated column: ranking
reads each vector once instead of parsing every text again, and under row-level security an
index can serve only a LEAKPROOF operator on a plain column (`to_tsvector(...)` in the query is
not leakproof; see helpdesk/devservices.py for `@@`). The ORM
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
ALTER TABLE tickets_ticket ADD COLUMN subject_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('helpdesk_es'::regconfig, subject)) STORED;
CREATE INDEX ticket_subject_search ON tickets_ticket USING gin (subject_vector);
ALTER TABLE tickets_customer ADD COLUMN name_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('helpdesk_names'::regconfig, name)) STORED;
CREATE INDEX customer_name_search ON tickets_customer USING gin (name_vector);
"""

REVERSE = """
DROP INDEX IF EXISTS customer_name_search;
ALTER TABLE tickets_customer DROP COLUMN IF EXISTS name_vector;
DROP INDEX IF EXISTS ticket_subject_search;
ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS subject_vector;
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
