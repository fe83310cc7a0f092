"""Create the single row whose generation tells processes to rebuild their in-memory index."""

import uuid

from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    IndexGeneration = apps.get_model("matching", "IndexGeneration")  # noqa: N806 - a model class
    IndexGeneration.objects.get_or_create(
        pk=1, defaults={"generation": 0, "instance": uuid.uuid4()}
    )


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_banks_and_matches")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
