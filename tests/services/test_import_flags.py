"""manage.py import_flags: CSV and NDJSON, an error report, and reruns that skip what is done."""

import json

import pytest
from django.core.management import CommandError, call_command

from blacklist.models import Flag
from identity.models import Identifier

CSV = """email,phone,country,platform_id,address,payment_fingerprint,reason,order_ref,occurred_at,note
ann@example.com,030 1234567,DE,,,,refund_abuse,H-1,2026-01-05T10:00:00Z,kept the goods
,+4915112345678,,,,,extortion,H-2,,
bob@example.com,,,,,,no_such_reason,H-3,,
bad-address@,,,,,,other,H-4,,
,,,,,,other,H-5,,
"""


def run(path, seller, **options):
    from io import StringIO

    out = StringIO()
    call_command("import_flags", str(path), seller=seller.pk, stdout=out, stderr=StringIO(), **options)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_a_csv_imports_and_bad_rows_go_to_the_report(seller_a, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    assert run(path, seller_a.seller) == {"created": 2, "existing": 0, "errors": 3}
    assert sorted(Flag.objects.filter(seller=seller_a.seller).values_list("order_ref", flat=True)) == ["H-1", "H-2"]
    assert Identifier.objects.count() == 3  # H-1 names an email and a phone, H-2 another phone
    report = [json.loads(line) for line in (tmp_path / "history.csv.errors.ndjson").read_text().splitlines()]
    assert [r["line"] for r in report] == [4, 5, 6]
    assert "reason" in report[0]["error"]["details"]
    text = json.dumps(report)
    assert "bob@example.com" not in text and "bad-address" not in text  # values are never echoed

    # A rerun (say after a crash) skips what is there and creates nothing twice.
    assert run(path, seller_a.seller) == {"created": 0, "existing": 2, "errors": 3}
    assert Flag.objects.count() == 2


def test_ndjson_takes_flat_rows_and_api_shaped_bodies(seller_a, tmp_path):
    path = tmp_path / "history.ndjson"
    lines = [
        {"email": "cy@example.com", "reason": "non_payment", "order_ref": "N-1"},
        {"buyer": {"platform_id": "shopee:42"}, "reason": "card_fraud", "order_ref": "N-2", "note": "fraud"},
        {"buyer": {"email": "cy@example.com"}, "reason": "non_payment", "order_ref": "N-1"},  # same flag again
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n")
    assert run(path, seller_a.seller, chunk=2) == {"created": 2, "existing": 1, "errors": 1}


def test_it_refuses_an_unknown_seller_or_file(seller_a, tmp_path):
    with pytest.raises(CommandError):
        run(tmp_path / "missing.csv", seller_a.seller)
    path = tmp_path / "x.csv"
    path.write_text("email,order_ref\n")
    with pytest.raises(CommandError, match="reason"):
        run(path, seller_a.seller)
    seller_a.seller.pk = 10**9
    with pytest.raises(CommandError, match="seller"):
        run(path, seller_a.seller)


def test_an_import_refreshes_the_statistics_as_it_grows_the_tables(seller_a, tmp_path):
    from django.db import connection

    from blacklist.management.commands.import_flags import StatisticsUpkeep

    path = tmp_path / "big.csv"
    rows = [f"buyer{n}@example.com,,,,,,refund_abuse,S-{n},," for n in range(9)]
    path.write_text(CSV.splitlines()[0] + "\n" + "\n".join(rows) + "\n")
    assert run(path, seller_a.seller, chunk=2, analyze_after=2) == {"created": 9, "existing": 0, "errors": 0}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # ANALYZE sets pg_class's row estimate, transactionally
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'blacklist_flag'")
            assert cursor.fetchone()[0] >= 8  # refreshed at 2, 4 and 8 created flags
    upkeep = StatisticsUpkeep(2)
    for count in (1, 2, 3, 4, 7, 8, 9):
        upkeep.created(count)
    assert upkeep.runs == ([2, 4, 8] if connection.vendor == "postgresql" else [])  # SQLite: nothing to do
    never = StatisticsUpkeep(0)
    never.created(10**6)
    assert never.runs == []
