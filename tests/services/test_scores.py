"""score_recompute: rebuilt from the flags, and the "needs score" mark cleared only when unchanged."""

from datetime import timedelta

from django.utils import timezone

from blacklist.services.flags import flag_submit
from identity.models import Buyer
from scoring.models import BuyerScore
from scoring.services import score_recompute
from scoring.services.scores import _write_if_unchanged
from tests.conftest import buyer_id_of, ids


def _flagged(persona, email, reason="extortion", ref="R-1"):
    flag, _ = flag_submit(seller=persona.seller, identifiers=ids(email=email), reason=reason, order_ref=ref)
    return Buyer.objects.get(pk=buyer_id_of(flag))


def test_recompute_is_idempotent_and_clears_the_mark(seller_a, seller_b):
    buyer = _flagged(seller_a, "i@example.com")
    _flagged(seller_b, "i@example.com", ref="R-2")
    score_recompute(buyer_ids=[buyer.pk])
    first = BuyerScore.objects.get(buyer=buyer)
    score_recompute(buyer_ids=[buyer.pk])
    second = BuyerScore.objects.get(buyer=buyer)
    assert (first.score, first.reporting_sellers, first.reasons) == (
        second.score,
        second.reporting_sellers,
        second.reasons,
    )
    assert first.reporting_sellers == 2
    assert Buyer.objects.get(pk=buyer.pk).needs_score_since is None


def test_a_mark_renewed_while_scoring_is_kept_and_its_stale_score_not_written(seller_a):
    buyer = _flagged(seller_a, "m@example.com")
    other = _flagged(seller_a, "n@example.com")
    read = dict(Buyer.objects.filter(pk__in=[buyer.pk, other.pk]).values_list("pk", "needs_score_since"))
    renewed = timezone.now() + timedelta(seconds=1)
    Buyer.objects.filter(pk=buyer.pk).update(needs_score_since=renewed)  # a flag landed meanwhile
    stale = [(pk, 42, 1, {}, 0, timezone.now()) for pk in (buyer.pk, other.pk)]  # rows in _SCORE_FIELDS order
    assert _write_if_unchanged(stale, read) == 1
    assert Buyer.objects.get(pk=buyer.pk).needs_score_since == renewed
    assert not BuyerScore.objects.filter(buyer=buyer).exists()  # the newer recompute writes it
    assert Buyer.objects.get(pk=other.pk).needs_score_since is None
    assert BuyerScore.objects.get(buyer=other).score == 42


def test_chunks_of_many_buyers_share_one_mark_and_all_clear(seller_a):
    buyers = [_flagged(seller_a, f"c{n}@example.com", ref=f"C-{n}") for n in range(30)]
    same = timezone.now()
    Buyer.objects.filter(pk__in=[b.pk for b in buyers]).update(needs_score_since=same)
    assert score_recompute(buyer_ids=[b.pk for b in buyers]) == 30
    assert not Buyer.objects.filter(needs_score_since__isnull=False).exists()
    assert BuyerScore.objects.filter(buyer__in=buyers).count() == 30


def test_the_score_task_s_recompute_leaves_out_buyers_already_rescored_since_their_mark(seller_a, seller_b):
    buyer = _flagged(seller_a, "q@example.com")
    assert score_recompute(buyer_ids=[buyer.pk], marked_only=True) == 1  # the first queued task
    written = BuyerScore.objects.get(buyer=buyer).computed_at
    assert score_recompute(buyer_ids=[buyer.pk], marked_only=True) == 0  # a second one: nothing new
    assert BuyerScore.objects.get(buyer=buyer).computed_at == written
    _flagged(seller_b, "q@example.com", ref="R-2")  # new evidence marks the buyer again
    assert score_recompute(buyer_ids=[buyer.pk], marked_only=True) == 1
    assert BuyerScore.objects.get(buyer=buyer).reporting_sellers == 2
