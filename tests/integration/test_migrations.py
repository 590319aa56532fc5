"""Identity-as-evidence migrations: they apply to a database holding data at the previous schema,
and every existing flag keeps counting (each takes its buyer's identifiers as its own)."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from blacklist.models import Flag
from identity.identifiers import digest
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from scoring.services import score_recompute
from tests.conftest import seed_reasons

BEFORE = [("blacklist", "0002_seed_reasons"), ("scoring", "0001_initial"), ("disputes", "0002_auditevent_append_only")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_flags_keep_counting_after_the_identity_migration():
    old = migrate(BEFORE)
    try:
        seed_reasons()  # a transactional test before this one may have flushed them
        Seller, OldBuyer = old.get_model("blacklist", "Seller"), old.get_model("blacklist", "Buyer")
        OldIdentifier, OldFlag = old.get_model("blacklist", "BuyerIdentifier"), old.get_model("blacklist", "Flag")
        a, b = Seller.objects.create(name="A"), Seller.objects.create(name="B")
        survivor, folded = OldBuyer.objects.create(), OldBuyer.objects.create()
        folded.merged_into = survivor
        folded.save()
        email, phone = digest("email", "old@example.com"), digest("phone", "+4915100000001")
        OldIdentifier.objects.create(digest=email, kind="email", buyer=survivor)
        OldIdentifier.objects.create(digest=phone, kind="phone", buyer=survivor)
        now = timezone.now()
        common = {"occurred_at": now, "status": "active"}
        OldFlag.objects.create(seller=a, buyer=survivor, reason_id="extortion", order_ref="A-1", **common)
        OldFlag.objects.create(seller=b, buyer=folded, reason_id="extortion", order_ref="B-1", **common)
        # The duplicate a merge left behind: same seller, reason and order as a flag on the survivor.
        OldFlag.objects.create(seller=a, buyer=folded, reason_id="extortion", order_ref="A-1", **common)
    finally:
        migrate(migrate_latest_targets())

    assert set(Identifier.objects.values_list("digest", flat=True)) == {email, phone}
    assert Identifier.objects.values("buyer_id").distinct().count() == 1
    assert Buyer.objects.filter(needs_score_since__isnull=False).count() == Buyer.objects.count() == 1
    flags = list(Flag.objects.all())
    assert len(flags) == 3
    for flag in flags:
        assert set(flag.identifiers.values_list("digest", flat=True)) == {email, phone}
    keys = {(f.seller_id, f.reason_id, f.order_ref, f.buyer_key) for f in flags}
    assert len(keys) == 3  # the duplicate kept a distinct key
    assert hashlib.sha256("\n".join(sorted([email, phone])).encode()).hexdigest() in {f.buyer_key for f in flags}

    seed_reasons()
    score_recompute(buyer_ids=list(Buyer.objects.values_list("pk", flat=True)))
    score = BuyerScore.objects.get()
    assert score.reporting_sellers == 2
    assert set(score.reasons["extortion"]["voices"]) == {str(a.pk), str(b.pk)}

    # New identifiers get fresh ids after the copied ones (the sequences were moved past them).
    assert Identifier.objects.create(digest="f" * 64, kind="email", buyer=Buyer.objects.create()).pk > max(
        Identifier.objects.exclude(digest="f" * 64).values_list("pk", flat=True)
    )


def migrate_latest_targets():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
