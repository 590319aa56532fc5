"""Decision and policy API."""

from datetime import UTC

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import HTTP_HEADER_ENCODING, exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.auth import NO_KEY, ApiKeyAuthentication, IsSellerKey, key_authenticate
from blacklist.models import FlagStatus, ReasonKind
from blacklist.serializers import (
    BuyerSerializer,
    CountryField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    choice,
)
from riskhub.db import retried
from riskhub.errors import error_response
from riskhub.parsers import json_parse
from riskhub.ratelimit import scope_hit
from riskhub.renderers import json_bytes
from riskhub.validation import validator
from scoring.policy import OVERRIDE_IGNORE, OVERRIDE_REVIEW, Policy
from scoring.rules import rules_cached
from scoring.selectors import decision_for, policy_of
from scoring.services import policy_update

DECISIONS_SCOPE = "decisions"  # the rate in settings.RATE_LIMITS
DECISION_EXAMPLE = {
    "buyer": {"email": "buyer@example.com", "phone": "030 1234567", "country": "DE"},
    "order": {"ref": "A-2002", "payment_method": "cod", "country": "DE", "value": "59.90", "currency": "EUR"},
}


class OrderSerializer(StrictSerializer):
    ref = serializers.CharField(max_length=64, required=False)
    payment_method = choice(["prepaid", "cod"], required=False)
    country = CountryField(required=False)
    value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, error_messages={"invalid": "Use an ISO 4217 code, e.g. EUR."}
    )


class DecisionInputSerializer(StrictSerializer):
    buyer = BuyerSerializer()
    order = OrderSerializer(required=False)


class ReasonCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReasonKind.choices)
    sellers = serializers.IntegerField(help_text="Distinct sellers flagging this reason (including you).")
    last_flagged_at = serializers.DateTimeField()
    reason_score = serializers.IntegerField(help_text="The score this reason alone gives (0–100).")
    disputed = serializers.IntegerField(help_text="Flags for this reason currently under dispute.")
    ignored = serializers.BooleanField(help_text="Your policy ignores this reason.")


class OwnFlagSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField(source="reason_id")
    order_ref = serializers.CharField()
    status = serializers.ChoiceField(choices=FlagStatus.choices)
    created_at = serializers.DateTimeField()


class DecisionOutputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["ship", "review", "no_ship"])
    conditions = serializers.ListField(child=serializers.CharField())
    score = serializers.IntegerField()
    reporting_sellers = serializers.IntegerField()
    reasons = ReasonCountSerializer(many=True)
    own_flags = OwnFlagSerializer(many=True)
    explanation = serializers.CharField()
    score_computed_at = serializers.DateTimeField(allow_null=True)


class DecisionSchema(APIView):
    """POST /api/v1/decisions as the OpenAPI schema describes it. Requests never reach this class:
    the endpoint is the plain view `decisions` below, which carries it as `decisions.cls` for
    drf-spectacular. The chain there matches these declarations — a seller key (IsSellerKey: 401
    without one, 403 for an admin key), the "decisions" rate (429), a JSON body (400, 413, 415) —
    and the contract tests (schemathesis, the generated client) hold the endpoint to them."""

    permission_classes = [IsSellerKey]
    throttle_scope = DECISIONS_SCOPE

    @extend_schema(
        operation_id="decisions_create",
        summary="Ship, review or no_ship?",
        request=DecisionInputSerializer,
        responses=DecisionOutputSerializer,
        examples=[OpenApiExample("COD order", value=DECISION_EXAMPLE, request_only=True)],
        description="Reads the precomputed score; an unknown buyer is `ship` with score 0.",
    )
    def post(self, request):
        raise NotImplementedError("POST /api/v1/decisions is served by scoring.views.decisions")


@csrf_exempt
def decisions(request):
    """POST /api/v1/decisions: the endpoint every seller calls for every order, as one explicit chain.

        method → authenticate the key → charge the rate limit → parse the JSON body → answer

    A plain Django view, not a DRF APIView: DRF's dispatch (request wrapping, negotiation, the
    authenticator, permission and throttle objects) cost about a tenth of a millisecond of CPU per
    request, as much as validating the input (docs/benchmarks.md). Each step uses the API's one
    definition of it (blacklist.auth.key_authenticate, riskhub.ratelimit.scope_hit,
    riskhub.parsers.json_parse, riskhub.errors), so the answers, errors included, are the DRF
    views' own; the response is always JSON, whatever the Accept header, in the bytes DRF's
    JSONRenderer would write (riskhub.renderers.json_bytes).
    """
    try:
        if request.method != "POST":
            raise exceptions.MethodNotAllowed(request.method)
        seller, key = retried(lambda: _seller_key(request))
        scope_hit(DECISIONS_SCOPE, ident=key.pk)
        data = _json_body(request)
        body = retried(lambda: decision_answer(seller=seller, data=data))
    except Exception as exc:
        response = error_response(exc)
    else:
        response = HttpResponse(json_bytes(body), content_type="application/json")
    if response.status_code == 405:
        response["Allow"] = "POST"
    return response


decisions.cls = DecisionSchema  # what drf-spectacular documents for this route (see DecisionSchema)
decisions.initkwargs = {}


def _seller_key(request):
    """(seller, key) for the request's Bearer key; 401 without a valid one, 403 for an admin key."""
    try:
        # From META: request.headers (DRF's get_authorization_header) builds a dict of every header.
        header = request.META.get("HTTP_AUTHORIZATION", "").encode(HTTP_HEADER_ENCODING)
        authenticated = key_authenticate(header=header)
        if authenticated is None:
            raise exceptions.NotAuthenticated(NO_KEY)
    except exceptions.APIException as exc:
        exc.auth_header = ApiKeyAuthentication.keyword  # a 401 names the scheme, as DRF's does
        raise
    seller, key = authenticated
    if key.is_admin:
        raise exceptions.PermissionDenied(IsSellerKey.message)
    return seller, key


def _json_body(request):
    """The parsed body: nothing sent reads as {} (the validation then names what is missing)."""
    raw = request.body
    if not raw:
        return {}
    if request.content_type != "application/json":
        raise exceptions.UnsupportedMediaType(request.content_type or "(none)")
    return json_parse(raw)


# Runs on every decision: valid input is checked with fields built once (riskhub.validation).
decision_input = validator(DecisionInputSerializer)


def decision_answer(*, seller, data):
    """The response body for `seller` asking about the parsed JSON request `data`."""
    validated = decision_input(data)
    decision, own_flags, score_row = decision_for(
        seller=seller,
        identifiers=validated["buyer"]["identifiers"],
        order=validated.get("order"),
    )
    return decision_body(decision, own_flags, score_row)


def iso(moment):
    """ISO 8601 in UTC with a "Z", as DRF's DateTimeField renders it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def decision_body(decision, own_flags, score_row):
    """The decision as JSON-ready data, in the shape DecisionOutputSerializer documents.

    Built directly rather than through the serializer: this runs on every decision request, and
    DRF's per-request field copying cost more than the rest of the response together.
    """
    rules = rules_cached()
    return {
        "decision": decision.decision,
        "conditions": list(decision.conditions),
        "score": decision.score,
        "reporting_sellers": decision.reporting_sellers,
        "reasons": [
            {
                "code": r.code,
                "label": rules[r.code].label,
                "kind": rules[r.code].kind,
                "sellers": r.sellers,
                "last_flagged_at": iso(r.last_flagged_at),
                "reason_score": round(100 * r.risk),
                "disputed": r.disputed,
                "ignored": r.code in decision.ignored,
            }
            for r in decision.reasons
            if r.code in rules
        ],
        "own_flags": [
            {
                "id": str(f.pk),
                "reason": f.reason_id,
                "order_ref": f.order_ref,
                "status": f.status,
                "created_at": iso(f.created_at),
            }
            for f in own_flags
        ],
        "explanation": decision.explanation,
        "score_computed_at": iso(score_row.computed_at) if score_row else None,
    }


_DEFAULT = Policy()


class PolicySerializer(StrictSerializer):
    """The whole policy; an omitted field takes its documented default (scoring.policy.Policy).

    Numbers and booleans must be JSON numbers and booleans: "10" or "yes" is a 400, not a guess.
    """

    review_at = StrictIntegerField(min_value=0, max_value=100, default=_DEFAULT.review_at)
    no_ship_at = StrictIntegerField(min_value=0, max_value=100, default=_DEFAULT.no_ship_at)
    own_flags_block = StrictBooleanField(
        default=_DEFAULT.own_flags_block, help_text="Your own active trust flag makes your decision no_ship."
    )
    reason_overrides = serializers.DictField(
        child=choice([OVERRIDE_IGNORE, OVERRIDE_REVIEW]),
        default=dict,
        help_text='Per reason code: "ignore" (leave it out) or "review" (always at least review).',
    )

    def validate_reason_overrides(self, value):
        unknown = sorted(set(value) - set(rules_cached()))
        if unknown:
            raise serializers.ValidationError("Unknown reason code(s); GET /api/v1/reasons lists them.")
        return value

    def validate(self, attrs):
        if attrs["review_at"] > attrs["no_ship_at"]:
            raise serializers.ValidationError({"review_at": ["Must not be above no_ship_at."]})
        return attrs


class PolicyApi(APIView):
    @extend_schema(operation_id="policy_retrieve", summary="Your decision policy", responses=PolicySerializer)
    def get(self, request):
        return Response(PolicySerializer(_policy_dict(policy_of(seller=request.user))).data)

    @extend_schema(
        operation_id="policy_update",
        summary="Replace your decision policy",
        request=PolicySerializer,
        responses=PolicySerializer,
        examples=[
            OpenApiExample(
                "Stricter",
                value={
                    "review_at": 30,
                    "no_ship_at": 60,
                    "own_flags_block": True,
                    "reason_overrides": {"other": "ignore", "cod_refusal": "review"},
                },
                request_only=True,
            )
        ],
    )
    def put(self, request):
        data = PolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = policy_update(seller=request.user, **data.validated_data)
        return Response(PolicySerializer(_policy_dict(updated)).data)


def _policy_dict(p):
    return {
        "review_at": p.review_at,
        "no_ship_at": p.no_ship_at,
        "own_flags_block": p.own_flags_block,
        "reason_overrides": dict(p.reason_overrides),
    }
