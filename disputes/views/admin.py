"""The admin's API (admin key): the review queue, resolving a dispute, a flag's audit trail."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.auth import IsAdminKey
from blacklist.serializers import StrictSerializer, choice
from disputes.models import DisputeStatus
from disputes.selectors import audit_of, dispute_queue
from disputes.services.review import dispute_resolve
from disputes.views.common import DisputeFlagSerializer, SellerDisputeSerializer, StatusFilterSerializer, key_actor
from riskhub.errors import Conflict
from riskhub.pagination import OldestFirstPage


class AdminDisputeFlagSerializer(DisputeFlagSerializer):
    seller = serializers.IntegerField(source="seller_id")
    seller_name = serializers.CharField(source="seller.name")
    note = serializers.CharField()


class AdminDisputeSerializer(SellerDisputeSerializer):
    flag = AdminDisputeFlagSerializer()
    resolved_by = serializers.CharField()
    claimed_by = serializers.CharField(allow_null=True)
    claimed_at = serializers.DateTimeField(allow_null=True)


class AdminDisputeListApi(APIView):
    permission_classes = [IsAdminKey]
    pagination_class = OldestFirstPage

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
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(dispute_queue(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(AdminDisputeSerializer(page, many=True).data)


class AdminDisputeResolveApi(APIView):
    permission_classes = [IsAdminKey]
    raises = (Conflict,)

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
        dispute = dispute_resolve(dispute_id=dispute_id, actor_id=key_actor(request), **data.validated_data)
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
        parameters=[OpenApiParameter("flag", OpenApiTypes.UUID, required=True, description="The flag id.")],
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
