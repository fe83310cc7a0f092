"""Each action names the platform that owns its target; existing ones get the configured one."""

from django.conf import settings
from django.db import migrations, models


def _existing_actions_belong_to_the_platform(apps, schema_editor):  # type: ignore[no-untyped-def]
    Action = apps.get_model("actions", "Action")  # noqa: N806 - a model class
    Action.objects.update(platform=settings.SAFEGUARD_PLATFORM)


class Migration(migrations.Migration):
    dependencies = [("actions", "0001_actions")]

    operations = [
        migrations.AddField(
            model_name="action",
            name="platform",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(_existing_actions_belong_to_the_platform, migrations.RunPython.noop),
    ]
