"""Identity as evidence, over HTTP: gunicorn + a real Celery worker + PostgreSQL + Redis.

The attacks of issue 7 replayed as an attacker would send them, the corroboration and hub rules,
and a burst of concurrent mixed traffic on overlapping identifiers.
"""

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from blacklist.models import COUNTING_STATUSES, Flag, FlagIdentifier
from blacklist.services.keys import seller_create
from disputes.auth import buyer_token_issue
from disputes.services.appeals import email_digest
from identity.models import Buyer, Identifier
from scoring.models import BuyerScore
from tests import stack
from tests.conftest import real_stack
from tests.integration.test_e2e_processes import Http

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

PHONE = "+49 151 22223333"
VICTIM = "victim.person@example.org"


@pytest.fixture(scope="module")
def server(request, django_db_setup):
    if not stack.REAL_STACK:
        pytest.skip("needs PostgreSQL + Redis")
    gunicorn = stack.start_gunicorn(
        workers=4,
        RATE_LIMIT_APPEAL_START_IP="10000/hour",
        RATE_LIMIT_APPEAL_START_EMAIL="10000/hour",
        RATE_LIMIT_FLAGS="100000/min",
        RATE_LIMIT_DECISIONS="100000/min",
    )
    request.addfinalizer(gunicorn.stop)
    return gunicorn


@pytest.fixture
def sellers(server, celery_worker, live_reasons):
    def make(n, prefix="Seller"):
        return [Http(server.url, seller_create(name=f"{prefix} {i}")[1]) for i in range(n)]

    return make


def settle(timeout=60):
    stack.wait_for(
        lambda: not Buyer.objects.filter(needs_score_since__isnull=False).exists(),
        timeout=timeout,
        message="every mark to clear",
    )


def flag(client, buyer, reason="extortion", ref=None):
    status, _, body = client.post(
        "/api/v1/flags", {"buyer": buyer, "reason": reason, "order_ref": ref or f"R-{random.randrange(10**9)}"}
    )
    assert status == 201, body
    return body


def decide(client, buyer):
    status, _, body = client.post("/api/v1/decisions", {"buyer": buyer})
    assert status == 200, body
    return body


def test_one_seller_cannot_blacklist_a_victim_by_linking_and_retracting(sellers):
    honest, (attacker, asker) = sellers(5), sellers(2, "Other")
    for client in honest:
        flag(client, {"phone": PHONE})
    settle()
    assert decide(asker, {"phone": PHONE})["decision"] == "no_ship"

    planted = flag(attacker, {"email": VICTIM, "phone": PHONE})
    settle()
    standing = decide(asker, {"email": VICTIM})
    assert standing["decision"] != "no_ship"  # only the attacker's own flag reaches the email
    assert standing["reporting_sellers"] == 1

    assert attacker.send("DELETE", f"/api/v1/flags/{planted['id']}")[0] == 204
    settle()
    after = decide(asker, {"email": VICTIM})
    assert (after["decision"], after["score"], after["reporting_sellers"]) == ("ship", 0, 0)
    assert decide(asker, {"phone": PHONE})["reporting_sellers"] == 5  # the real record is untouched


def test_a_seller_learns_nothing_by_linking_a_mailbox_it_controls(sellers, server):
    honest, (attacker,) = sellers(5), sellers(1, "Snoop")
    for n, client in enumerate(honest):
        flag(client, {"phone": PHONE}, ref=f"SECRET-{n}")
    mailbox = "snoop.inbox@example.net"
    planted = flag(attacker, {"email": mailbox, "phone": PHONE}, ref="MINE-1")
    settle()
    buyer = Http(server.url, buyer_token_issue(email_digest=email_digest(mailbox), email=mailbox))

    status, _, seen = buyer.get("/api/v1/appeals/flags")
    assert status == 200
    assert [(f["order_ref"], f["named"]) for f in seen["results"]] == [("MINE-1", "direct")]
    assert buyer.get("/api/v1/appeals/links")[2]["results"] == []

    attacker.send("DELETE", f"/api/v1/flags/{planted['id']}")
    settle()
    text = str(buyer.get("/api/v1/appeals/flags")[2])
    assert "SECRET" not in text


def test_two_sellers_corroborate_a_link_and_retracting_both_undoes_it(sellers):
    pair, crowd, (asker,) = sellers(2, "Pair"), sellers(10, "Crowd"), sellers(1, "Asker")
    email = "linked.buyer@example.com"
    corroborating = [flag(client, {"email": email, "phone": PHONE}, reason="refund_abuse") for client in pair]
    for client in crowd:
        flag(client, {"phone": PHONE})
    settle()
    linked = decide(asker, {"email": email})
    assert linked["reporting_sellers"] == 12
    assert {r["code"]: r["sellers"] for r in linked["reasons"]} == {"extortion": 10, "refund_abuse": 2}
    assert linked["decision"] == "no_ship"

    for client, made in zip(pair, corroborating, strict=True):
        assert client.send("DELETE", f"/api/v1/flags/{made['id']}")[0] == 204
    settle()
    alone = decide(asker, {"email": email})
    assert (alone["decision"], alone["reporting_sellers"]) == ("ship", 0)
    assert decide(asker, {"phone": PHONE})["reporting_sellers"] == 10


def test_a_hub_address_shared_by_many_buyers_does_not_join_them(sellers):
    locker = "Packstation 105, 10115 Berlin"
    clients = sellers(14, "Shop")
    for n in range(7):
        for client in clients[2 * n : 2 * n + 2]:  # two sellers per buyer: each link corroborated
            flag(client, {"email": f"customer{n}@example.com", "address": locker})
    settle()
    asker = sellers(1, "Asker")[0]
    for n in range(7):
        assert decide(asker, {"email": f"customer{n}@example.com"})["reporting_sellers"] == 2
    assert decide(asker, {"address": locker})["reporting_sellers"] == 14  # flags naming it still count
    assert Identifier.objects.filter(kind="address", is_hub=True).count() == 1


def test_200_concurrent_mixed_requests_give_no_5xx_and_every_flag_reaches_the_scores(sellers, server, celery_worker):
    clients = sellers(6, "Busy")
    emails = [f"busy{n}@example.com" for n in range(4)]
    phones = ["+49 151 40000001", "+49 151 40000002"]
    rnd = random.Random(11)
    tokens = [Http(server.url, buyer_token_issue(email_digest=email_digest(e), email=e)) for e in emails]
    made = []

    def one(i):
        client = rnd.choice(clients)
        roll = i % 5
        if roll in (0, 1, 2):
            buyer = {"email": rnd.choice(emails)}
            if roll:
                buyer["phone"] = rnd.choice(phones)
            status, _, body = client.post(
                "/api/v1/flags",
                {"buyer": buyer, "reason": rnd.choice(["extortion", "refund_abuse"]), "order_ref": f"C-{i}"},
            )
            if status == 201:
                made.append((client, body["id"]))
            return status
        if roll == 3 and made:
            owner, flag_id = rnd.choice(made)
            return owner.send("DELETE", f"/api/v1/flags/{flag_id}")[0]
        buyer = rnd.choice(tokens)
        status, _, listed = buyer.get("/api/v1/appeals/flags")
        if status == 200 and listed["results"]:
            return buyer.post("/api/v1/appeals", {"flag": listed["results"][0]["id"], "statement": "Not me."})[0]
        return status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(200)))
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    assert statuses.count(201) >= 100
    settle(timeout=120)
    stack.wait_worker_idle(celery_worker.process)

    # Every counting flag is a voice in the score of every buyer holding an identifier it names.
    for flag_id, seller_id, reason in Flag.objects.filter(status__in=COUNTING_STATUSES).values_list(
        "pk", "seller_id", "reason_id"
    ):
        named = FlagIdentifier.objects.filter(flag_id=flag_id).values("identifier_id")
        for buyer_id in Identifier.objects.filter(pk__in=named).values_list("buyer_id", flat=True):
            score = BuyerScore.objects.get(buyer_id=buyer_id)
            assert str(seller_id) in score.reasons[reason]["voices"], (flag_id, buyer_id)
