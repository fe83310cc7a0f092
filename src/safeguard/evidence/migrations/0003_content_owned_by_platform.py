"""Content ids belong to the platform that owns them: unique per platform, not globally."""

from django.conf import settings
from django.db import migrations, models


def _existing_content_belongs_to_the_platform(apps, schema_editor):  # type: ignore[no-untyped-def]
    ContentItem = apps.get_model("evidence", "ContentItem")
    ContentItem.objects.update(platform=settings.SAFEGUARD_PLATFORM)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0002_viewed_by_person")]

    operations = [
        migrations.AddField(
            model_name="contentitem",
            name="platform",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(_existing_content_belongs_to_the_platform, migrations.RunPython.noop),
        migrations.AddField(
            model_name="contentitem",
            name="described_by_owner",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="contentitem",
            name="platform_id",
            field=models.CharField(max_length=200),
        ),
        migrations.AddConstraint(
            model_name="contentitem",
            constraint=models.UniqueConstraint(
                fields=("platform", "platform_id"), name="content_unique_per_platform"
            ),
        ),
    ]
