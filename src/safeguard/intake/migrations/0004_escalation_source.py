from django.db import migrations, models

# Escalations accepted before sources were recorded: the channel says most of it. A user report
# without a named reporter counted as anonymous; law enforcement as unverified, as no partner
# account was told apart then.
_BY_CHANNEL = {
    "hotline": ("hotline", True),
    "law_enforcement": ("law_enforcement_unverified", False),
    "automated": ("classifier", True),
    "internal": ("internal", True),
}


def backfill(apps, schema_editor):
    Escalation = apps.get_model("intake", "Escalation")
    for channel, (kind, verified) in _BY_CHANNEL.items():
        Escalation.objects.filter(channel=channel, source_kind="").update(
            source_kind=kind, source_verified=verified
        )
    Escalation.objects.filter(source_kind="").update(source_kind="anonymous")


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_subject_moves_from_cases")]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="source_kind",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AddField(
            model_name="escalation",
            name="source_verified",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
