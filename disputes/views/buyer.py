"""The buyer's API (no account): ask for a code, trade it for a token, see and contest flags."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.models import FlagStatus
from blacklist.serializers import StrictSerializer
from disputes.auth import BuyerTokenAuthentication, IsBuyerToken
from disputes.models import DisputeStatus
from disputes.selectors import buyer_flags, flag_appealable
from disputes.services.appeals import InvalidCode, appeal_create, appeal_session, appeal_start
from disputes.tasks import appeal_code_send_later
from disputes.views.common import EmailField
from riskhub.clientip import client_ip
from riskhub.errors import Conflict, NotFound
from riskhub.pagination import CursorPage
from riskhub.ratelimit import RateLimited

KIND_WORDS = {
    "email": "another email address",
    "phone": "a phone number",
    "address": "a postal address",
    "platform_id": "a marketplace account",
    "payment_fingerprint": "a payment card or account",
}
START_ANSWER = "If flags are held about this address, a one-time code is on its way to it."


class AppealStartApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    raises = (RateLimited,)

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
        sealed = appeal_start(email=data.validated_data["email"], ip=client_ip(request))
        appeal_code_send_later(sealed)  # looked up and mailed by the worker, off the request
        return Response({"detail": START_ANSWER}, status=status.HTTP_202_ACCEPTED)


class AppealSessionApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    raises = (InvalidCode, RateLimited)

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
        token = appeal_session(ip=client_ip(request), **data.validated_data)
        body = {"token": token, "expires_in": int(settings.APPEAL_TOKEN_TTL.total_seconds())}
        return Response(self.AppealSessionOutputSerializer(body).data)


class BuyerApi(APIView):
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyerToken]


class AppealFlagsApi(BuyerApi):
    pagination_class = CursorPage

    class AppealFlagsOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        reason = serializers.CharField(source="reason_id")
        reason_label = serializers.CharField(source="reason.label")
        order_ref = serializers.SerializerMethodField(
            help_text="The seller's order reference; null for a flag reached through a link."
        )
        occurred_at = serializers.DateTimeField()
        created_at = serializers.DateTimeField()
        status = serializers.ChoiceField(choices=FlagStatus.choices)
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
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(buyer_flags(email_digest=request.auth.email_digest), request, view=self)
        return paginator.get_paginated_response(self.AppealFlagsOutputSerializer(page, many=True).data)


class AppealCreateApi(BuyerApi):
    raises = (NotFound, Conflict)

    class AppealCreateInputSerializer(StrictSerializer):
        flag = serializers.UUIDField()
        statement = serializers.CharField(max_length=2000)

    class AppealCreateOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.ChoiceField(choices=DisputeStatus.choices)
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
