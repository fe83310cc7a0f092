"""Create the queues the default triage policy routes to, with the roles that work them."""

from django.db import migrations

QUEUES = [
    ("emergency", "P0: a child may be in imminent danger", ["specialist", "lead"]),
    ("csam", "Known or suspected abuse material", ["specialist", "lead"]),
    ("grooming", "Grooming, enticement and sextortion", ["specialist", "lead"]),
    ("le-requests", "Requests from law enforcement", ["legal", "lead"]),
    ("general", "Everything else", ["specialist", "lead"]),
    ("lead", "Escalated to a lead", ["lead"]),
]


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    Queue = apps.get_model("cases", "Queue")  # noqa: N806 - a model class
    for name, description, roles in QUEUES:
        Queue.objects.get_or_create(
            name=name, defaults={"description": description, "roles": roles}
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_queues_and_triage_fields")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
