"""manage.py import_flags as an operator runs it: a real process, killed mid-import, then run again.

Each chunk is one transaction, so a crash leaves whole chunks behind and nothing half-written; the
rerun skips every flag that is there (idempotency on seller + identifiers + reason + order ref)
and creates exactly the rest.
"""

import csv
import json
import signal
import subprocess
from datetime import timedelta

import pytest
from django.db import connection

from blacklist.models import AuditEvent, Flag
from identity.models import Buyer
from scoring.services import score_sweep
from tests.conftest import make_persona, real_stack
from tests.stack import BIN, ROOT, process_env, scored_by_worker, wait_for

pytestmark = [pytest.mark.integration, real_stack]

ROWS = 6000
CHUNK = 200
APP_NAME = "riskhub-import-test"


def _history(path):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "phone", "country", "reason", "order_ref", "note"])
        for n in range(ROWS):
            phone = f"0151 {20_000_000 + n}" if n % 3 == 0 else ""
            writer.writerow([f"resume-{n}@example.com", phone, "DE" if phone else "", "refund_abuse", f"R-{n}", ""])


def _import(path, seller):
    argv = [str(BIN / "python"), "manage.py", "import_flags", "--seller", str(seller.pk), "--chunk", str(CHUNK)]
    env = process_env(PGAPPNAME=APP_NAME)  # libpq names the import's connection after this
    return subprocess.Popen([*argv, str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def _import_backend_gone():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return cursor.fetchone()[0] == 0


def test_an_import_killed_midway_resumes_without_duplicates(live_reasons, celery_worker, tmp_path):
    seller = make_persona("Importer").seller
    path = tmp_path / "history.csv"
    _history(path)

    first = _import(path, seller)
    try:
        wait_for(lambda: Flag.objects.filter(seller=seller).count() >= 3 * CHUNK, timeout=120, message="chunks")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # A COMMIT the process sent before it died still completes in its server backend: count once
    # that backend has gone.
    wait_for(_import_backend_gone, timeout=30, message="the killed import's backend to end")
    done = Flag.objects.filter(seller=seller).count()
    assert 0 < done < ROWS, "the kill must land mid-import for this test to mean anything"
    assert done % CHUNK == 0  # whole chunks only: each is one transaction

    rerun = _import(path, seller)
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert json.loads(out.strip().splitlines()[-1]) == {"created": ROWS - done, "existing": done, "errors": 0}
    flags = Flag.objects.filter(seller=seller)
    assert flags.count() == ROWS
    assert flags.values("order_ref").distinct().count() == ROWS
    assert AuditEvent.objects.filter(flag_id__in=flags.values("id"), action="created").count() == ROWS
    # Every imported flag's buyer carries a mark or a score: nothing is lost to the kill.
    assert not Buyer.objects.filter(identifiers__flags__seller=seller, needs_score_since=None, score=None).exists()
    # A kill that lands between a chunk's COMMIT and its wake-up leaves that chunk's buyers marked
    # with no task queued: beat's sweep is what scores them in production (SCORE_SWEEP_AFTER). The
    # test runs it at once, whatever the marks' age, as beat would once they are old enough.
    score_sweep(older_than=timedelta(0))
    scored_by_worker(celery_worker, Buyer.objects.filter(identifiers__flags__seller=seller))
