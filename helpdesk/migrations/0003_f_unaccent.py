# An IMMUTABLE wrapper of unaccent, so accent-insensitive searches can use an expression index.
from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0002_extensions")]

    operations = [migrations.RunSQL(SQL, "DROP FUNCTION IF EXISTS f_unaccent(text);")]
