"""Helpers for the due-process tests: flags through the API, a buyer's code and token from the mail."""

import re

from django.core import mail
from rest_framework.test import APIClient

CODE_RE = re.compile(r"code: (\d+)")


def flag(persona, *, reason="refund_abuse", order_ref="A-1", note="", **buyer):
    """File a flag through the API; returns its JSON."""
    body = {"buyer": buyer or {"email": "buyer@example.com"}, "reason": reason, "order_ref": order_ref}
    if note:
        body["note"] = note
    response = persona.post("/api/v1/flags", body)
    assert response.status_code == 201, response.json()
    return response.json()


def start(email, **extra):
    return APIClient().post("/api/v1/appeals/start", {"email": email}, format="json", **extra)


def code_from_mail(message):
    match = CODE_RE.search(message.body)
    assert match, message.body
    return match.group(1)


def session(email, code, **extra):
    return APIClient().post("/api/v1/appeals/session", {"email": email, "code": code}, format="json", **extra)


def buyer_token(email):
    """Run the buyer's path to a token: start, read the code from the mail, trade it."""
    before = len(mail.outbox)
    assert start(email).status_code == 202
    assert len(mail.outbox) == before + 1, "no code was mailed"
    response = session(email, code_from_mail(mail.outbox[-1]))
    assert response.status_code == 200, response.json()
    return response.json()["token"]


def buyer_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def appeal(token, flag_id, statement="I never received the parcel; the seller cancelled."):
    return buyer_client(token).post("/api/v1/appeals", {"flag": flag_id, "statement": statement}, format="json")


def open_dispute(persona, email="buyer@example.com", **flag_fields):
    """A flag by `persona` appealed by the buyer; returns (flag json, dispute json, token)."""
    flagged = flag(persona, email=email, **flag_fields)
    token = buyer_token(email)
    response = appeal(token, flagged["id"])
    assert response.status_code == 201, response.json()
    return flagged, response.json(), token
