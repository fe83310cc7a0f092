"""The policy lifecycle (draft, shadow, live): a status per policy, the active one becoming
live and every other uploaded one a draft; `active` is computed from the status from now on.
Triage records gain the kind "shadow"."""

from django.db import migrations, models


def _backfill_status(apps, schema_editor):  # type: ignore[no-untyped-def]
    TriagePolicy = apps.get_model("triage", "TriagePolicy")
    # Every row starts as a draft (the field's default); the active one is the live one.
    TriagePolicy.objects.filter(active=True).update(status="live")


def _restore_active(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Going back there is no shadow: a shadow policy becomes an ordinary inactive one.
    TriagePolicy = apps.get_model("triage", "TriagePolicy")
    TriagePolicy.objects.update(active=False)
    TriagePolicy.objects.filter(status="live").update(active=True)


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0001_policies_and_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="triagepolicy",
            name="status",
            field=models.CharField(
                choices=[("draft", "draft"), ("shadow", "shadow"), ("live", "live")],
                default="draft",
                max_length=8,
            ),
        ),
        migrations.RunPython(_backfill_status, _restore_active),
        migrations.RemoveConstraint(model_name="triagepolicy", name="one_active_policy"),
        migrations.RemoveField(model_name="triagepolicy", name="active"),
        migrations.AddField(
            model_name="triagepolicy",
            name="active",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(status="live", then=models.Value(True)),
                    default=models.Value(False),
                ),
                output_field=models.BooleanField(),
            ),
        ),
        migrations.AddConstraint(
            model_name="triagepolicy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "live")),
                fields=("status",),
                name="one_live_policy",
            ),
        ),
        migrations.AddConstraint(
            model_name="triagepolicy",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "shadow")),
                fields=("status",),
                name="one_shadow_policy",
            ),
        ),
        migrations.AlterField(
            model_name="triagerecord",
            name="kind",
            field=models.CharField(
                choices=[
                    ("automatic", "automatic"),
                    ("override", "override"),
                    ("shadow", "shadow"),
                ],
                max_length=16,
            ),
        ),
    ]
