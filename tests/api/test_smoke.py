from tests.conftest import rescore


def test_flag_then_decision(seller_a, seller_b):
    body = {"buyer": {"email": "x@example.com"}, "reason": "extortion", "order_ref": "A-1"}
    assert seller_a.post("/api/v1/flags", body).status_code == 201
    assert seller_a.post("/api/v1/flags", body).status_code == 200
    rescore()
    decision = seller_b.post("/api/v1/decisions", {"buyer": {"email": " X@EXAMPLE.com"}}).json()
    assert decision["reporting_sellers"] == 1
    assert decision["reasons"][0]["code"] == "extortion"
