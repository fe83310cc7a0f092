"""The Subject model now belongs to intake (same table); cases keeps its suspects relation."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_claim_records"),
        ("intake", "0003_subject_moves_from_cases"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="suspects",
                    field=models.ManyToManyField(
                        blank=True, related_name="cases_as_suspect", to="intake.subject"
                    ),
                ),
                migrations.DeleteModel(name="Subject"),
            ],
            database_operations=[],
        ),
    ]
