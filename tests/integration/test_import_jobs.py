"""manage.py import_flags --jobs: forked processes file the chunks, with the same outcome as one.

A real command in its own process (the chunks commit in the children, so the test database must
see committed rows): counts, the error report in the file's order, every flag with its audit
event and its buyers marked or scored, and a rerun that creates nothing.
"""

import csv
import json
import subprocess

import pytest

from blacklist.models import AuditEvent, Flag
from identity.models import Buyer
from tests.conftest import make_persona, real_stack
from tests.stack import BIN, ROOT, process_env, scored_by_worker

pytestmark = [pytest.mark.integration, real_stack]

ROWS = 1200
BAD = {7, 450, 451, 1199}  # row numbers (0-based) with an unknown reason


def _history(path):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "phone", "country", "reason", "order_ref"])
        for n in range(ROWS):
            phone = f"0151 {30_000_000 + n}" if n % 4 == 0 else ""
            reason = "no_such_reason" if n in BAD else "non_payment"
            writer.writerow([f"jobs-{n}@example.com", phone, "DE" if phone else "", reason, f"J-{n}"])


def _import(path, seller, jobs):
    argv = [str(BIN / "python"), "manage.py", "import_flags", "--seller", str(seller.pk), "--chunk", "100"]
    argv += ["--jobs", str(jobs), str(path)]
    run = subprocess.run(argv, cwd=ROOT, env=process_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_three_jobs_file_every_flag_once_and_report_errors_in_file_order(live_reasons, celery_worker, tmp_path):
    seller = make_persona("Parallel importer").seller
    path = tmp_path / "history.csv"
    _history(path)

    assert _import(path, seller, jobs=3) == {"created": ROWS - len(BAD), "existing": 0, "errors": len(BAD)}
    flags = Flag.objects.filter(seller=seller)
    assert sorted(flags.values_list("order_ref", flat=True)) == sorted(f"J-{n}" for n in range(ROWS) if n not in BAD)
    flag_ids = list(flags.values_list("pk", flat=True))
    assert AuditEvent.objects.filter(flag_id__in=flag_ids, action="created").count() == ROWS - len(BAD)
    named = Buyer.objects.filter(identifiers__flags__seller=seller).distinct()
    assert named.count() == ROWS - len(BAD) + len([n for n in range(0, ROWS, 4) if n not in BAD])
    assert not named.filter(needs_score_since__isnull=True, score__isnull=True).exists()  # marked or scored

    report = [json.loads(line) for line in (tmp_path / "history.csv.errors.ndjson").read_text().splitlines()]
    assert [r["line"] for r in report] == [n + 2 for n in sorted(BAD)]  # CSV lines: the header is line 1

    assert _import(path, seller, jobs=2) == {"created": 0, "existing": ROWS - len(BAD), "errors": len(BAD)}
    assert flags.count() == ROWS - len(BAD)
    scored_by_worker(celery_worker, Buyer.objects.filter(identifiers__flags__seller=seller))
