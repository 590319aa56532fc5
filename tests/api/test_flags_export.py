"""GET /api/v1/flags/export: the asking seller's own flags, streamed as NDJSON or CSV."""

import csv
import io
import json


def flag(persona, ref, reason="refund_abuse", **buyer):
    response = persona.post("/api/v1/flags", {"buyer": buyer, "reason": reason, "order_ref": ref, "note": "n"})
    assert response.status_code == 201


def body(response):
    return b"".join(response.streaming_content).decode()


def test_it_streams_your_flags_as_ndjson_by_default(seller_a, seller_b):
    flag(seller_a, "A-1", email="x@example.com", phone="+4915111112222")
    flag(seller_a, "A-2", reason="extortion", email="y@example.com")
    flag(seller_b, "B-1", email="x@example.com")
    response = seller_a.get("/api/v1/flags/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in body(response).splitlines()]
    assert [r["order_ref"] for r in rows] == ["A-1", "A-2"]  # never another seller's
    assert rows[0]["named"] == "email,phone" and rows[0]["note"] == "n"
    assert "x@example.com" not in json.dumps(rows)


def test_csv_and_filters(seller_a):
    flag(seller_a, "A-1", email="x@example.com")
    flag(seller_a, "A-2", reason="extortion", email="y@example.com")
    response = seller_a.get("/api/v1/flags/export", {"file": "csv", "reason": "extortion"})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [(r["order_ref"], r["reason"], r["named"]) for r in rows] == [("A-2", "extortion", "email")]


def test_bad_parameters_and_principals_are_refused(seller_a, admin_key, anon):
    assert seller_a.get("/api/v1/flags/export", {"file": "xml"}).status_code == 400
    assert seller_a.get("/api/v1/flags/export", {"status": "nope"}).status_code == 400
    assert anon.get("/api/v1/flags/export").status_code == 401
    assert admin_key.get("/api/v1/flags/export").status_code == 403
