# pg_trgm and unaccent are trusted extensions: the database's owner role may create them.
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]

    operations = [TrigramExtension(), UnaccentExtension()]
