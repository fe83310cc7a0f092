"""Subjects move from the cases app to intake, which names them (the table keeps its name):
intake sits below cases, and must not reach up to record who an escalation is about."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0002_content_claims"),
        ("cases", "0009_claim_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Subject",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("platform_id", models.CharField(max_length=200, unique=True)),
                        ("first_seen_at", models.DateTimeField()),
                    ],
                    options={"db_table": "cases_subject"},
                ),
                migrations.AlterField(
                    model_name="escalationsubject",
                    name="subject",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="mentions",
                        to="intake.subject",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
