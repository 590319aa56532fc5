"""200 concurrent mixed requests through gunicorn + a Celery worker: no 5xx, nothing lost.

Submissions (single and batched, with duplicates racing each other), retractions, appeals
(code requests and wrong codes) and tampered cursors, all at once from 24 client threads.
"""

import base64
import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from blacklist.models import Flag, FlagStatus
from blacklist.services.keys import seller_create
from identity.models import Buyer
from scoring.models import BuyerScore
from scoring.tasks import sweep_unscored_buyers
from tests import stack
from tests.conftest import real_stack
from tests.integration.test_e2e_processes import Http

pytestmark = [pytest.mark.integration, pytest.mark.e2e, real_stack]

REQUESTS = 200


def body(email, reason, order_ref):
    return {"buyer": {"email": email}, "reason": reason, "order_ref": order_ref}


def test_two_hundred_concurrent_mixed_requests(gunicorn, celery_worker, live_reasons, appeal_limits_clean):
    rnd = random.Random(8)
    tag = uuid.uuid4().hex[:6]
    sellers = [Http(gunicorn.url, seller_create(name=f"Load {tag} {n}")[1]) for n in range(4)]

    # Flags to retract during the storm, filed beforehand.
    to_retract = []
    for n in range(30):
        client = sellers[n % 4]
        status, _, flag = client.post("/api/v1/flags", body(f"r{n}.{tag}@example.com", "refund_abuse", f"R-{n}"))
        assert status == 201, flag
        to_retract.append((client, flag["id"]))

    jobs = []
    for n in range(90):  # single submissions; every third repeats an earlier one (idempotency race)
        k = n - n % 3 if n % 3 == 2 else n
        seller = sellers[k % 4]
        jobs.append(("submit", seller, body(f"b{k % 40}.{tag}@example.com", "extortion", f"S-{k}")))
    for n in range(10):  # batches of five
        items = [body(f"batch{n}.{i}.{tag}@example.com", "card_fraud", f"B-{n}-{i}") for i in range(5)]
        jobs.append(("batch", sellers[n % 4], {"flags": items}))
    jobs += [("retract", client, flag_id) for client, flag_id in to_retract]
    for n in range(20):
        jobs.append(("appeal_start", None, {"email": f"b{n}.{tag}@example.com"}))
        jobs.append(("appeal_session", None, {"email": f"b{n}.{tag}@example.com", "code": "00000000"}))
    tampered = ["cD1nYXJiYWdl", base64.b64encode(b"o=-5").decode(), "%%%", base64.b64encode(b"p=\x00").decode()]
    for n in range(30):
        jobs.append(("tampered", sellers[n % 4], tampered[n % len(tampered)]))
    assert len(jobs) == REQUESTS
    rnd.shuffle(jobs)

    anonymous = Http(gunicorn.url)

    def run(job):
        kind, client, payload = job
        if kind == "submit":
            return kind, payload, client.post("/api/v1/flags", payload)
        if kind == "batch":
            return kind, payload, client.post("/api/v1/flags/batch", payload)
        if kind == "retract":
            return kind, payload, client.send("DELETE", f"/api/v1/flags/{payload}")
        if kind == "appeal_start":
            return kind, payload, anonymous.post("/api/v1/appeals/start", payload)
        if kind == "appeal_session":
            return kind, payload, anonymous.post("/api/v1/appeals/session", payload)
        return kind, payload, client.get(f"/api/v1/flags?cursor={payload}")

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(run, jobs))

    server_errors = [(kind, status, body) for kind, _, (status, _, body) in results if status >= 500]
    assert server_errors == []
    expected = {
        "submit": {200, 201},
        "batch": {200},
        "retract": {204},
        "appeal_start": {202, 429},
        "appeal_session": {400, 429},
        "tampered": {400},
    }
    for kind, _, (status, _, answer) in results:
        assert status in expected[kind], (kind, status, answer)
        assert status < 300 or set(answer) == {"error"}, answer  # every error in the envelope

    # Nothing lost: every accepted flag is stored once, retractions stuck, duplicates merged.
    accepted = set()
    for kind, _, (_status, _, answer) in results:
        if kind == "submit":
            accepted.add(answer["id"])
        elif kind == "batch":
            assert [r["status"] for r in answer["results"]] == [201] * 5, answer
            accepted |= {r["id"] for r in answer["results"]}
    assert len(accepted) == 60 + 50  # 90 submissions, 30 of them repeats; 10 batches of 5
    stored = set(map(str, Flag.objects.filter(pk__in=accepted).values_list("pk", flat=True)))
    assert stored == accepted
    retracted = {flag_id for _, flag_id in to_retract}
    assert set(map(str, Flag.objects.filter(status=FlagStatus.RETRACTED).values_list("pk", flat=True))) == retracted

    # ...and every buyer ends up scored by the worker (the sweep recovers anything a task missed).
    def all_scored():
        if Buyer.objects.filter(needs_score_since__isnull=False).exists():
            sweep_unscored_buyers.delay()
            return False
        return True

    stack.wait_for(all_scored, timeout=90, interval=1.0, message="every buyer scored")
    live = set(Buyer.objects.filter(identifiers__flags__status=FlagStatus.ACTIVE).values_list("pk", flat=True))
    assert live
    assert set(BuyerScore.objects.filter(buyer_id__in=live).values_list("buyer_id", flat=True)) == live
