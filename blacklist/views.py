"""Flag API: submit, batch, list, retract, export; the reason list."""

import csv
import io
import json

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.models import FlagStatus
from blacklist.selectors import EXPORT_FIELDS, flags_export, flags_of, reasons_all
from blacklist.serializers import FlagInputSerializer, choice
from blacklist.services.flags import flag_retract, flag_submit
from identity.marks import score_requests_collected
from riskhub.errors import ApplicationError, error_body, flatten_detail

FLAG_EXAMPLE = {
    "buyer": {"email": "Buyer@Example.com", "phone": "+49 30 1234567", "country": "DE"},
    "reason": "refund_abuse",
    "order_ref": "A-1001",
    "occurred_at": "2026-11-20T14:03:00Z",
    "note": "Third refund request this month without returning the goods.",
}


class FlagOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField(source="reason_id")
    order_ref = serializers.CharField()
    status = serializers.ChoiceField(choices=FlagStatus.choices)
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    note = serializers.CharField()


def _submit(seller, data):
    return flag_submit(
        seller=seller,
        identifiers=data["buyer"]["identifiers"],
        reason=data["reason"],
        order_ref=data["order_ref"],
        occurred_at=data.get("occurred_at"),
        note=data.get("note", ""),
    )


class FlagSubmitApi(APIView):
    throttle_scope = "flags"

    @extend_schema(
        operation_id="flags_create",
        summary="Flag a buyer",
        request=FlagInputSerializer,
        responses={201: FlagOutputSerializer, 200: FlagOutputSerializer},
        examples=[OpenApiExample("Refund abuse", value=FLAG_EXAMPLE, request_only=True)],
        description="Idempotent on seller + buyer + reason + order_ref: a repeat answers 200 with the existing flag.",
    )
    def post(self, request):
        data = FlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag, created = _submit(request.user, data.validated_data)
        return Response(
            FlagOutputSerializer(flag).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        operation_id="flags_list",
        summary="List your own flags",
        parameters=[
            OpenApiParameter("reason", str, description="Only this reason code."),
            OpenApiParameter("status", str, enum=FlagStatus.values, description="Only this status."),
            OpenApiParameter("page_size", int, description="Items per page (1–200, default 50)."),
        ],
        responses=FlagOutputSerializer(many=True),
    )
    def get(self, request):
        filters = FlagFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = FlagPagination()
        page = paginator.paginate_queryset(flags_of(seller=request.user, **filters.validated_data), request, view=self)
        return paginator.get_paginated_response(FlagOutputSerializer(page, many=True).data)


class FlagFilterSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, max_length=40)
    status = choice(FlagStatus.values, required=False)


class FlagPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ApplicationError(
                "Invalid cursor; use the `next` or `previous` link of a page.", code="invalid_cursor"
            ) from None


class FlagRetractApi(APIView):
    @extend_schema(operation_id="flags_retract", summary="Retract one of your flags", responses={204: None})
    def delete(self, request, flag_id):
        flag_retract(seller=request.user, flag_id=flag_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlagBatchInputSerializer(serializers.Serializer):
    # Items are validated one by one below, so any JSON value (even null) is let through here.
    flags = serializers.ListField(child=serializers.JSONField(allow_null=True), allow_empty=False)

    def validate_flags(self, value):
        if len(value) > settings.FLAG_BATCH_MAX:
            raise serializers.ValidationError(f"At most {settings.FLAG_BATCH_MAX} flags per batch.")
        return value


class FlagBatchApi(APIView):
    throttle_scope = "flags"

    @extend_schema(
        operation_id="flags_batch",
        summary="Flag many buyers at once",
        request=inline_serializer("FlagBatchInput", {"flags": FlagInputSerializer(many=True)}),
        responses=inline_serializer(
            "FlagBatchOutput",
            {
                "results": inline_serializer(
                    "FlagBatchResult",
                    {
                        "index": serializers.IntegerField(),
                        "status": serializers.IntegerField(),
                        "id": serializers.UUIDField(required=False),
                        "error": serializers.DictField(required=False),
                    },
                    many=True,
                )
            },
        ),
        description="Each item stands alone: one bad item does not stop the others.",
    )
    def post(self, request):
        data = FlagBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = []
        with score_requests_collected():
            for index, item in enumerate(data.validated_data["flags"]):
                results.append({"index": index, **self._one(request.user, item)})
        return Response({"results": results})

    @staticmethod
    def _one(seller, item):
        serializer = FlagInputSerializer(data=item)
        if not serializer.is_valid():
            details = flatten_detail(serializer.errors)
            return {"status": 400, "error": error_body("validation_error", "The flag has invalid fields.", details)}
        try:
            flag, created = _submit(seller, serializer.validated_data)
        except ApplicationError as exc:
            return {"status": exc.status, "error": exc.as_dict()}
        return {"status": 201 if created else 200, "id": str(flag.pk), "flag_status": flag.status}


class ReasonOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    half_life_days = serializers.IntegerField()
    max_age_days = serializers.IntegerField()
    condition = serializers.CharField()


class ReasonListApi(APIView):
    @extend_schema(operation_id="reasons_list", summary="The reason codes", responses=ReasonOutputSerializer(many=True))
    def get(self, request):
        return Response(ReasonOutputSerializer(reasons_all(), many=True).data)


class FlagExportApi(APIView):
    """Your own flags as one streamed file: NDJSON (default) or CSV."""

    throttle_scope = "flags"

    class ExportFilterSerializer(FlagFilterSerializer):
        file = choice(["ndjson", "csv"], required=False)

    @extend_schema(
        operation_id="flags_export",
        summary="Export your own flags (NDJSON or CSV)",
        parameters=[
            OpenApiParameter("file", str, enum=["ndjson", "csv"], description="Default ndjson."),
            OpenApiParameter("reason", str, description="Only this reason code."),
            OpenApiParameter("status", str, enum=FlagStatus.values, description="Only this status."),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR},
        description=(
            "Streams every flag you filed, oldest first: " + ", ".join(EXPORT_FIELDS) + ". `named` lists the kinds "
            "of identifier the flag named; the identifiers themselves are held only as digests and cannot be exported."
        ),
    )
    def get(self, request):
        filters = self.ExportFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        options = dict(filters.validated_data)
        fmt = options.pop("file", "ndjson")
        rows = flags_export(seller=request.user, **options)
        lines = _csv_lines(rows) if fmt == "csv" else (json.dumps(row, default=_jsonable) + "\n" for row in rows)
        response = StreamingHttpResponse(lines, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
        response["Content-Disposition"] = f'attachment; filename="riskhub-flags.{fmt}"'
        return response


def _jsonable(value):
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else str(value)


def _csv_lines(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _jsonable(v) if not isinstance(v, str) else v for k, v in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
