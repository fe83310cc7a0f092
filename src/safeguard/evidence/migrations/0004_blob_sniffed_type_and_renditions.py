"""Blobs record what their bytes are (sniffed), keep the uploader's type only as a record, and
point at renditions made off the request path. Existing blobs are re-rendered as pending."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_content_owned_by_platform")]

    operations = [
        migrations.RenameField(
            model_name="blob", old_name="content_type", new_name="declared_type"
        ),
        migrations.AddField(
            model_name="blob", name="media_kind", field=models.CharField(blank=True, max_length=8)
        ),
        migrations.AddField(
            model_name="blob",
            name="media_type",
            field=models.CharField(default="application/octet-stream", max_length=100),
        ),
        migrations.AddField(
            model_name="blob", name="detected", field=models.CharField(blank=True, max_length=300)
        ),
        migrations.AddField(
            model_name="blob", name="markup", field=models.BooleanField(default=False)
        ),
        migrations.AddField(
            model_name="blob",
            name="render_state",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("ready", "Ready"),
                    ("failed", "Failed"),
                    ("none", "None"),
                ],
                default="pending",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="blob",
            name="render_error",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="blob",
            name="thumbnail_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="blob",
            name="display_sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
