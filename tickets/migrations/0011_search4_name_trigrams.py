"""A name typed with a typo (issue 18) is found through a trigram index under row-level security.

An index serves a query under row-level security only through a LEAKPROOF operator on a plain
column: the expression index ``customer_name_trgm`` (on ``f_unaccent(lower(name))``) cannot,
because ``lower()`` is not leakproof. So the folded name is a stored generated column with its
own trigram index, and pg_trgm's word-similarity match ``%>`` is marked LEAKPROOF where the
database is set up (helpdesk/devservices.py, docker/postgres-init.sh), as ``@@`` is. The ORM does
not know the column; tickets/search.py reads it. The tenant's newest customers are read through
``customer_newest`` (names found among the newest first, as messages and subjects are). Raw SQL on purpose, as in 0008_phone_search.
"""

from django.db import migrations

SQL = """
ALTER TABLE tickets_customer ADD COLUMN name_folded text
    GENERATED ALWAYS AS (f_unaccent(lower(name))) STORED;
CREATE INDEX customer_name_folded_trgm ON tickets_customer USING gin (name_folded gin_trgm_ops);
CREATE INDEX customer_newest ON tickets_customer (tenant_id, id);
"""

REVERSE = """
DROP INDEX IF EXISTS customer_newest;
DROP INDEX IF EXISTS customer_name_folded_trgm;
ALTER TABLE tickets_customer DROP COLUMN IF EXISTS name_folded;
"""


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_merge_email")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
