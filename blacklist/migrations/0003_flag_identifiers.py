"""Identity as evidence, step 1: every flag keeps the identifiers it names.

Buyers and identifiers are copied, ids kept, into the identity app; each flag takes its buyer's
identifiers as its own (following merges to the surviving buyer, which holds them all), so every
existing flag keeps counting. Every buyer is marked, so the scorer relinks and rescores them all
from the evidence (a merge a lone seller caused no longer holds once the relink has run).
"""

import hashlib
from collections import defaultdict

import django.db.models.deletion
from django.core.management.color import no_style
from django.db import migrations, models
from django.utils import timezone


def copy_identity(apps, schema_editor):
    OldBuyer = apps.get_model("blacklist", "Buyer")
    OldIdentifier = apps.get_model("blacklist", "BuyerIdentifier")
    Flag = apps.get_model("blacklist", "Flag")
    FlagIdentifier = apps.get_model("blacklist", "FlagIdentifier")
    Buyer = apps.get_model("identity", "Buyer")
    Identifier = apps.get_model("identity", "Identifier")
    now = timezone.now()

    merged_into = dict(OldBuyer.objects.exclude(merged_into=None).values_list("pk", "merged_into_id"))

    def survivor(pk):
        while pk in merged_into:
            pk = merged_into[pk]
        return pk

    Buyer.objects.bulk_create(
        (Buyer(pk=pk, created_at=created, needs_score_since=now)
         for pk, created in OldBuyer.objects.filter(merged_into=None).values_list("pk", "created_at").iterator()),
        batch_size=5000,
    )
    held = defaultdict(list)
    rows = OldIdentifier.objects.values_list("pk", "digest", "kind", "buyer_id", "created_at").iterator()
    batch = []
    for pk, digest, kind, buyer_id, created in rows:
        buyer_id = survivor(buyer_id)
        held[buyer_id].append((pk, digest))
        batch.append(Identifier(pk=pk, digest=digest, kind=kind, buyer_id=buyer_id, created_at=created))
    Identifier.objects.bulk_create(batch, batch_size=5000)

    taken = set()
    links, updated = [], []
    for flag in Flag.objects.only("pk", "seller_id", "reason_id", "order_ref", "buyer_id").iterator(chunk_size=5000):
        named = held.get(survivor(flag.buyer_id), [])
        key = hashlib.sha256("\n".join(sorted(d for _, d in named)).encode()).hexdigest()
        if (flag.seller_id, key, flag.reason_id, flag.order_ref) in taken:
            # A duplicate a merge left behind (same seller, reason and order): keep it distinct.
            key = hashlib.sha256(f"{key}\n{flag.pk}".encode()).hexdigest()
        taken.add((flag.seller_id, key, flag.reason_id, flag.order_ref))
        flag.buyer_key = key
        updated.append(flag)
        links += [FlagIdentifier(flag_id=flag.pk, identifier_id=pk, asserts_link=len(named) > 1) for pk, _ in named]
    Flag.objects.bulk_update(updated, ["buyer_key"], batch_size=5000)
    FlagIdentifier.objects.bulk_create(links, batch_size=5000)

    # Rows were inserted with their ids: move the id sequences past them (PostgreSQL).
    with schema_editor.connection.cursor() as cursor:
        for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Buyer, Identifier]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("blacklist", "0002_seed_reasons"),
        ("identity", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="FlagIdentifier",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "flag",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="blacklist.flag",
                    ),
                ),
                (
                    "identifier",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="identity.identifier",
                    ),
                ),
                ("asserts_link", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["identifier", "flag"], name="flagidentifier_identifier_idx"),
                    models.Index(
                        fields=["identifier"], name="flagidentifier_link_idx", condition=models.Q(asserts_link=True)
                    ),
                ],
                "constraints": [models.UniqueConstraint(fields=("flag", "identifier"), name="flagidentifier_unique")],
            },
        ),
        migrations.AddField(
            model_name="flag",
            name="identifiers",
            field=models.ManyToManyField(
                related_name="flags", through="blacklist.FlagIdentifier", to="identity.identifier"
            ),
        ),
        migrations.AddField(
            model_name="flag",
            name="buyer_key",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(model_name="flag", name="flag_one_per_seller_buyer_reason_order"),
        migrations.RunPython(copy_identity, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="flag",
            constraint=models.UniqueConstraint(
                fields=("seller", "buyer_key", "reason", "order_ref"), name="flag_one_per_seller_buyer_reason_order"
            ),
        ),
    ]
