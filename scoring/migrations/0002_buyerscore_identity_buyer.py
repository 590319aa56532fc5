"""Scores now belong to identity's buyers (the same ids, copied in blacklist 0003)."""

import django.db.models.deletion
from django.db import migrations, models


def drop_orphan_scores(apps, schema_editor):
    BuyerScore = apps.get_model("scoring", "BuyerScore")
    Buyer = apps.get_model("identity", "Buyer")
    BuyerScore.objects.exclude(buyer_id__in=Buyer.objects.values("pk")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("blacklist", "0003_flag_identifiers"),
        ("scoring", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(drop_orphan_scores, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="buyerscore",
            name="buyer",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="score",
                serialize=False,
                to="identity.buyer",
            ),
        ),
    ]
