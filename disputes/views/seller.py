"""The seller's side of due process: the disputes on its flags, and its answer."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.serializers import StrictSerializer
from disputes.models import DisputeStatus
from disputes.selectors import disputes_of
from disputes.services.responses import dispute_respond
from disputes.views.common import SellerDisputeSerializer, StatusFilterSerializer
from riskhub.errors import Conflict
from riskhub.pagination import CursorPage


class DisputeListApi(APIView):
    pagination_class = CursorPage

    @extend_schema(
        operation_id="disputes_list",
        summary="Disputes on your flags",
        parameters=[OpenApiParameter("status", str, enum=DisputeStatus.values, description="Only this status.")],
        responses=SellerDisputeSerializer(many=True),
        description="Newest first. Answer an open one with POST /api/v1/disputes/{id}/response.",
    )
    def get(self, request):
        filters = StatusFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            disputes_of(seller=request.user, **filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(SellerDisputeSerializer(page, many=True).data)


class DisputeResponseApi(APIView):
    raises = (Conflict,)

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
