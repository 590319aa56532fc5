"""Identity as evidence, step 2: buyers, identifiers and merges leave the blacklist app."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("blacklist", "0003_flag_identifiers"),
        ("scoring", "0002_buyerscore_identity_buyer"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="flag", name="flag_buyer_status_idx"),
        migrations.RemoveField(model_name="flag", name="buyer"),
        migrations.RemoveField(model_name="buyer", name="merged_into"),
        migrations.RemoveField(model_name="buyermerge", name="into"),
        migrations.RemoveField(model_name="buyeridentifier", name="buyer"),
        migrations.DeleteModel(name="BuyerMerge"),
        migrations.DeleteModel(name="BuyerIdentifier"),
        migrations.DeleteModel(name="Buyer"),
    ]
