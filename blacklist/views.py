"""Flag API: submit, batch, list, retract, export; the reason list."""

import csv
import io
import json

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.models import FlagStatus, ReasonKind
from blacklist.selectors import EXPORT_FIELDS, flags_export, flags_of, reasons_all
from blacklist.serializers import FlagInputSerializer, choice, flag_input, flag_input_item
from blacklist.services.flags import flag_retract, flag_submit_many
from riskhub.db import retried
from riskhub.errors import Conflict, TemporarilyUnavailable, error_body, flatten_detail
from riskhub.pagination import CursorPage
from riskhub.schema import ErrorSerializer

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


def _submit(seller, item):
    """(flag, created) for one validated flag (a FlagInput), retried on contention (riskhub.db)."""
    [answer] = retried(lambda: flag_submit_many(seller=seller, items=[item]))
    return answer


class FlagSubmitApi(APIView):
    throttle_scope = "flags"
    pagination_class = CursorPage
    raises = (TemporarilyUnavailable,)  # contention that outlasted the retries (riskhub.db)

    @extend_schema(
        operation_id="flags_create",
        summary="Flag a buyer",
        request=FlagInputSerializer,
        responses={201: FlagOutputSerializer, 200: FlagOutputSerializer},
        examples=[OpenApiExample("Refund abuse", value=FLAG_EXAMPLE, request_only=True)],
        description="Idempotent on seller + buyer + reason + order_ref: a repeat answers 200 with the existing flag.",
    )
    def post(self, request):
        flag, created = _submit(request.user, flag_input_item(flag_input(request.data)))
        return Response(
            FlagOutputSerializer(flag).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        operation_id="flags_list",
        summary="List your own flags",
        parameters=[
            OpenApiParameter("reason", str, description="Only this reason code."),
            OpenApiParameter("status", str, enum=FlagStatus.values, description="Only this status."),
        ],
        responses=FlagOutputSerializer(many=True),
    )
    def get(self, request):
        filters = FlagFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(flags_of(seller=request.user, **filters.validated_data), request, view=self)
        return paginator.get_paginated_response(FlagOutputSerializer(page, many=True).data)


class FlagFilterSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, max_length=40)
    status = choice(FlagStatus.values, required=False)


class FlagRetractApi(APIView):
    raises = (Conflict, TemporarilyUnavailable)  # a disputed flag cannot be retracted while under appeal

    @extend_schema(operation_id="flags_retract", summary="Retract one of your flags", responses={204: None})
    def delete(self, request, flag_id):
        retried(lambda: flag_retract(seller=request.user, flag_id=flag_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlagBatchInputSerializer(serializers.Serializer):
    # Items are validated one by one below, so any JSON value (even null) is let through here.
    flags = serializers.ListField(child=serializers.JSONField(allow_null=True), allow_empty=False)

    def validate_flags(self, value):
        if len(value) > settings.FLAG_BATCH_MAX:
            raise serializers.ValidationError(f"At most {settings.FLAG_BATCH_MAX} flags per batch.")
        return value


BATCH_ITEM_STATUSES = [200, 201, 400, 404, 409, 503]


class FlagBatchApi(APIView):
    throttle_scope = "flags"

    def throttle_cost(self, request):
        """A batch costs as many rate-limit units as it has items (at least one)."""
        data = request.data
        flags = data.get("flags") if isinstance(data, dict) else None
        return max(1, len(flags)) if isinstance(flags, list) else 1

    @extend_schema(
        operation_id="flags_batch",
        summary="Flag many buyers at once",
        request=inline_serializer(
            "FlagBatchInput",
            {
                "flags": serializers.ListField(
                    child=FlagInputSerializer(), min_length=1, max_length=settings.FLAG_BATCH_MAX
                )
            },
        ),
        responses=inline_serializer(
            "FlagBatchOutput",
            {
                "results": inline_serializer(
                    "FlagBatchResult",
                    {
                        "index": serializers.IntegerField(min_value=0),
                        "status": serializers.ChoiceField(
                            choices=BATCH_ITEM_STATUSES, help_text="The status this item alone would have had."
                        ),
                        "id": serializers.UUIDField(required=False, help_text="The flag (200/201)."),
                        "flag_status": serializers.ChoiceField(
                            choices=FlagStatus.choices, required=False, help_text="The flag's status (200/201)."
                        ),
                        "error": ErrorSerializer(required=False, help_text="Why this item failed (4xx/503)."),
                    },
                    many=True,
                )
            },
        ),
        description=(
            "Each item stands alone: one bad item does not stop the others. A batch counts as many rate-limit "
            "units as it has items. An item the database could not take right now answers its own 503 "
            "(`temporarily_unavailable`): send that item again."
        ),
    )
    def post(self, request):
        """Validate each item alone, then submit every valid one in one set-based transaction
        (flag_submit_many): a fixed number of statements per batch, whatever its size."""
        data = FlagBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results, valid, items = {}, [], []
        for index, item in enumerate(data.validated_data["flags"]):
            try:
                items.append(flag_input_item(flag_input(item)))
                valid.append(index)
            except serializers.ValidationError as exc:
                error = error_body("validation_error", "The flag has invalid fields.", flatten_detail(exc.detail))
                results[index] = {"status": 400, "error": error}
        try:
            answers = retried(lambda: flag_submit_many(seller=request.user, items=items))
            for index, (flag, created) in zip(valid, answers, strict=True):
                results[index] = _submitted(flag, created)
        except TemporarilyUnavailable:
            # Contention outlasted the retries: fall back to one transaction per item, so only the
            # items that still cannot go through answer their own 503 (retryable), never the batch.
            for index, item in zip(valid, items, strict=True):
                results[index] = _submitted_alone(request.user, item)
        return Response({"results": [{"index": i, **results[i]} for i in sorted(results)]})


def _submitted(flag, created):
    return {"status": 201 if created else 200, "id": str(flag.pk), "flag_status": flag.status}


def _submitted_alone(seller, item):
    try:
        flag, created = _submit(seller, item)
    except TemporarilyUnavailable as exc:
        return {"status": exc.status, "error": exc.as_dict()}
    return _submitted(flag, created)


class ReasonOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReasonKind.choices)
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
