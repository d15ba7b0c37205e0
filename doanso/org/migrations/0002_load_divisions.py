"""Fill the administrative divisions (34 provinces, 3,321 communes) from the installed ``vietnam-provinces``.

The loading rules live in ``doanso.org.divisions.load_divisions`` (one place, shared with ``sync_divisions``);
it is given the historical model, so this migration keeps working as the model grows. It runs on every test
database creation, hence bulk inserts only: 0.2 s on SQLite, plus 0.3 s to import the package's data.
"""

from django.db import migrations


def load(apps, schema_editor):
    from doanso.org.divisions import load_divisions

    load_divisions(apps, using=schema_editor.connection.alias)


def unload(apps, schema_editor):
    Division = apps.get_model("org", "AdministrativeDivision")
    # Communes first: deleting a province would otherwise cascade through each of its communes one by one.
    Division.objects.using(schema_editor.connection.alias).filter(level="commune").delete()
    Division.objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [migrations.RunPython(load, unload, elidable=False)]
