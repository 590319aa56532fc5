"""Due-process API: the buyer's appeal, the seller's response, the admin's review and audit."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from blacklist.auth import IsAdminKey
from blacklist.serializers import StrictSerializer, choice
from disputes.auth import BuyerTokenAuthentication, IsBuyerToken
from disputes.models import DisputeStatus
from disputes.selectors import audit_of, buyer_flags, dispute_queue, disputes_of, flag_appealable
from disputes.services.appeals import appeal_create, appeal_session, appeal_start
from disputes.services.responses import dispute_respond
from disputes.services.review import dispute_resolve
from identity.identifiers import MAX_IDENTIFIER_LENGTH, InvalidIdentifier, normalise_email

KIND_WORDS = {
    "email": "another email address",
    "phone": "a phone number",
    "address": "a postal address",
    "platform_id": "a marketplace account",
    "payment_fingerprint": "a payment card or account",
}
START_ANSWER = "If flags are held about this address, a one-time code is on its way to it."


def _client_ip(request):
    return BaseThrottle().get_ident(request)


class EmailField(serializers.CharField):
    """An email address that is validated without ever being echoed back."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_IDENTIFIER_LENGTH, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            normalise_email(value)
        except InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


# --- the buyer ------------------------------------------------------------------------------


class AppealStartApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class AppealStartInputSerializer(StrictSerializer):
        email = EmailField()

    @extend_schema(
        operation_id="appeals_start",
        summary="Ask for a one-time code (buyer, no key)",
        request=AppealStartInputSerializer,
        responses={202: inline_serializer("AppealStartOutput", {"detail": serializers.CharField()})},
        examples=[OpenApiExample("Start", value={"email": "buyer@example.com"}, request_only=True)],
        auth=[],
        description=(
            "Always 202, whether or not anything is held about the address. When flags exist, the address "
            "receives a one-time code (`code: <CODE>`), valid for minutes and a few attempts. Rate-limited per "
            "address and per client (429 with Retry-After)."
        ),
    )
    def post(self, request):
        data = self.AppealStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal_start(email=data.validated_data["email"], ip=_client_ip(request))
        return Response({"detail": START_ANSWER}, status=status.HTTP_202_ACCEPTED)


class AppealSessionApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    class AppealSessionInputSerializer(StrictSerializer):
        email = EmailField()
        code = serializers.CharField(max_length=32)

    class AppealSessionOutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expires_in = serializers.IntegerField(help_text="Seconds the token stays valid.")

    @extend_schema(
        operation_id="appeals_session",
        summary="Trade the code for a buyer token (buyer, no key)",
        request=AppealSessionInputSerializer,
        responses=AppealSessionOutputSerializer,
        auth=[],
        description="A wrong, used or expired code → 400 `invalid_code`. Use the token as `Authorization: Bearer`.",
    )
    def post(self, request):
        data = self.AppealSessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = appeal_session(ip=_client_ip(request), **data.validated_data)
        body = {"token": token, "expires_in": int(settings.APPEAL_TOKEN_TTL.total_seconds())}
        return Response(self.AppealSessionOutputSerializer(body).data)


class BuyerFlagPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BuyerApi(APIView):
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyerToken]


class AppealFlagsApi(BuyerApi):
    class AppealFlagsOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        reason = serializers.CharField(source="reason_id")
        reason_label = serializers.CharField(source="reason.label")
        order_ref = serializers.SerializerMethodField(
            help_text="The seller's order reference; null for a flag reached through a link."
        )
        occurred_at = serializers.DateTimeField()
        created_at = serializers.DateTimeField()
        status = serializers.CharField()
        appealable = serializers.SerializerMethodField()
        named = serializers.SerializerMethodField(
            help_text='"direct": the flag names your email. "linked": it names another identifier that '
            "several sellers independently linked to your email (see `via`)."
        )
        via = serializers.SerializerMethodField(
            help_text="For a linked flag, the kind of identifier it named (phone, address, …); else null."
        )
        explanation = serializers.SerializerMethodField()

        def get_appealable(self, flag) -> bool:
            return flag_appealable(flag)

        def get_order_ref(self, flag) -> str | None:
            return flag.order_ref if flag.named_directly else None

        def get_named(self, flag) -> str:
            return "direct" if flag.named_directly else "linked"

        def get_via(self, flag) -> str | None:
            return None if flag.named_directly else flag.via_kind

        def get_explanation(self, flag) -> str:
            if flag.named_directly:
                return "This flag names your email address."
            kind = KIND_WORDS.get(flag.via_kind, "an identifier")
            return (
                f"This flag names {kind} that several sellers independently linked to your email. "
                "If it is not yours, contest the link (POST /api/v1/appeals/links)."
            )

    @extend_schema(
        operation_id="appeals_flags",
        summary="The flags held about you (buyer token)",
        responses=AppealFlagsOutputSerializer(many=True),
        description="Found through any identifier linked to the verified address. Never names the seller.",
    )
    def get(self, request):
        paginator = BuyerFlagPagination()
        page = paginator.paginate_queryset(buyer_flags(email_digest=request.auth.email_digest), request, view=self)
        return paginator.get_paginated_response(self.AppealFlagsOutputSerializer(page, many=True).data)


class AppealCreateApi(BuyerApi):
    class AppealCreateInputSerializer(StrictSerializer):
        flag = serializers.UUIDField()
        statement = serializers.CharField(max_length=2000)

    class AppealCreateOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.CharField()
        flag = serializers.UUIDField(source="flag_id")
        created_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="appeals_create",
        summary="Contest a flag (buyer token)",
        request=AppealCreateInputSerializer,
        responses={201: AppealCreateOutputSerializer},
        examples=[
            OpenApiExample(
                "Appeal",
                value={"flag": "6f1c7c1e-6a55-4b5f-9a53-0d3c2a3f9e10", "statement": "The seller cancelled the order."},
                request_only=True,
            )
        ],
        description=(
            "One open appeal per flag (409 `appeal_open`); an upheld flag can be appealed again only after "
            "180 days (409 `appeal_too_soon`); a flag that is not yours → 404."
        ),
    )
    def post(self, request):
        data = self.AppealCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = appeal_create(
            buyer=request.auth, flag_id=data.validated_data["flag"], statement=data.validated_data["statement"]
        )
        return Response(self.AppealCreateOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)


# --- the seller -----------------------------------------------------------------------------


class DisputeFlagSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField(source="reason_id")
    order_ref = serializers.CharField()
    status = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class SellerDisputeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    flag = DisputeFlagSerializer()
    statement = serializers.CharField(help_text="The buyer's statement.")
    created_at = serializers.DateTimeField()
    response = serializers.CharField(source="seller_response")
    evidence = serializers.ListField(source="seller_evidence", child=serializers.CharField())
    responded_at = serializers.DateTimeField(source="seller_responded_at")
    resolved_at = serializers.DateTimeField()
    resolution_note = serializers.CharField()


class SellerDisputePagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class StatusFilterSerializer(serializers.Serializer):
    status = choice(DisputeStatus.values, required=False)


class DisputeListApi(APIView):
    @extend_schema(
        operation_id="disputes_list",
        summary="Disputes on your flags",
        parameters=[
            OpenApiParameter("status", str, enum=DisputeStatus.values, description="Only this status."),
            OpenApiParameter("page_size", int, description="Items per page (1–200, default 50)."),
        ],
        responses=SellerDisputeSerializer(many=True),
        description="Newest first. Answer an open one with POST /api/v1/disputes/{id}/response.",
    )
    def get(self, request):
        filters = StatusFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = SellerDisputePagination()
        page = paginator.paginate_queryset(
            disputes_of(seller=request.user, **filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(SellerDisputeSerializer(page, many=True).data)


class DisputeResponseApi(APIView):
    class DisputeResponseInputSerializer(StrictSerializer):
        response = serializers.CharField(max_length=4000)
        evidence = serializers.ListField(
            child=serializers.CharField(max_length=500), max_length=10, required=False, default=list
        )

    @extend_schema(
        operation_id="disputes_respond",
        summary="Answer a dispute on one of your flags",
        request=DisputeResponseInputSerializer,
        responses=SellerDisputeSerializer,
        examples=[
            OpenApiExample(
                "Response",
                value={
                    "response": "The parcel was delivered; the buyer kept it and charged back.",
                    "evidence": ["https://tracking.example/AB123456789"],
                },
                request_only=True,
            )
        ],
        description="Until an admin has reviewed it (then 409). Someone else's or unknown dispute → 404.",
    )
    def post(self, request, dispute_id):
        data = self.DisputeResponseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = dispute_respond(seller=request.user, dispute_id=dispute_id, **data.validated_data)
        return Response(SellerDisputeSerializer(dispute).data)


# --- the admin ------------------------------------------------------------------------------


class AdminDisputeFlagSerializer(DisputeFlagSerializer):
    seller = serializers.IntegerField(source="seller_id")
    seller_name = serializers.CharField(source="seller.name")
    note = serializers.CharField()


class AdminDisputeSerializer(SellerDisputeSerializer):
    flag = AdminDisputeFlagSerializer()
    resolved_by = serializers.CharField()
    claimed_by = serializers.CharField(allow_null=True)
    claimed_at = serializers.DateTimeField()


class AdminQueuePagination(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _key_actor(request):
    return f"key:{request.auth.pk}"


class AdminDisputeListApi(APIView):
    permission_classes = [IsAdminKey]

    @extend_schema(
        operation_id="admin_disputes_list",
        summary="The review queue (admin key)",
        parameters=[OpenApiParameter("status", str, enum=DisputeStatus.values, description="e.g. open")],
        responses=AdminDisputeSerializer(many=True),
        description="Oldest first. Seller keys → 403.",
    )
    def get(self, request):
        filters = StatusFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = AdminQueuePagination()
        page = paginator.paginate_queryset(dispute_queue(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(AdminDisputeSerializer(page, many=True).data)


class AdminDisputeResolveApi(APIView):
    permission_classes = [IsAdminKey]

    class AdminDisputeResolveInputSerializer(StrictSerializer):
        outcome = choice([DisputeStatus.UPHELD.value, DisputeStatus.OVERTURNED.value])
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_disputes_resolve",
        summary="Uphold or overturn a dispute (admin key)",
        request=AdminDisputeResolveInputSerializer,
        responses=AdminDisputeSerializer,
        examples=[
            OpenApiExample(
                "Overturn", value={"outcome": "overturned", "note": "Seller could not ship."}, request_only=True
            )
        ],
        description=(
            "An overturned flag stops counting (its buyer is rescored) and its seller sees status `overturned`; "
            "the buyer is mailed the outcome and the note. Already reviewed, or claimed by an admin in the "
            "Django admin → 409."
        ),
    )
    def post(self, request, dispute_id):
        data = self.AdminDisputeResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = dispute_resolve(dispute_id=dispute_id, actor_id=_key_actor(request), **data.validated_data)
        return Response(AdminDisputeSerializer(dispute_queue().get(pk=dispute.pk)).data)


class AdminAuditApi(APIView):
    permission_classes = [IsAdminKey]

    class AdminAuditFilterSerializer(serializers.Serializer):
        flag = serializers.UUIDField()

    class AdminAuditEventSerializer(serializers.Serializer):
        action = serializers.CharField()
        from_status = serializers.CharField()
        to_status = serializers.CharField()
        actor_type = serializers.CharField()
        actor_id = serializers.CharField()
        note = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="admin_audit",
        summary="The audit trail of one flag (admin key)",
        parameters=[OpenApiParameter("flag", str, required=True, description="The flag id.")],
        responses=inline_serializer(
            "AuditOutput", {"flag": serializers.UUIDField(), "results": AdminAuditEventSerializer(many=True)}
        ),
        description="Every state change (created, retracted, disputed, upheld, overturned, expired), oldest first. "
        "Survives the flag's retention purge.",
    )
    def get(self, request):
        filters = self.AdminAuditFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        flag_id = filters.validated_data["flag"]
        events = audit_of(flag_id=flag_id)
        return Response({"flag": str(flag_id), "results": self.AdminAuditEventSerializer(events, many=True).data})
