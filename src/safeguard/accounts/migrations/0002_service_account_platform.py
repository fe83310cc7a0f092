"""Service accounts speak for a host platform; existing ones get the configured platform."""

from django.conf import settings
from django.db import migrations, models


def _service_accounts_belong_to_the_platform(apps, schema_editor):  # type: ignore[no-untyped-def]
    User = apps.get_model("accounts", "User")
    User.objects.filter(role="service").update(platform=settings.SAFEGUARD_PLATFORM)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_users_and_api_tokens")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="platform",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(_service_accounts_belong_to_the_platform, migrations.RunPython.noop),
    ]
