"""The one pagination class of the API: opaque cursors, newest (or oldest) first.

Every list endpoint sets `pagination_class` to `CursorPage` (or a subclass that only changes
`ordering`), so the envelope, the parameters and their bounds are the same everywhere and the
schema (riskhub.schema) documents them from this class.

DRF's CursorPagination trusts the decoded cursor: a well-formed cursor carrying a position that
is not a value of the ordering field (`p=garbage` for a timestamp) reached the database and
failed there as a 500. Here the position is converted by the ordering field itself first, and
`page_size` is checked instead of being silently clamped, so tampered input is a 400.
"""

from base64 import b64decode
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from riskhub.errors import ApplicationError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class InvalidCursor(ApplicationError):
    code = "invalid_cursor"

    def __init__(self):
        super().__init__("Invalid cursor; use the `next` or `previous` link of a page.")


class InvalidPageSize(ApplicationError):
    code = "invalid_page_size"

    def __init__(self):
        super().__init__(f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}.")


class CursorPage(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise InvalidPageSize()
        return int(raw)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded:
            # DRF's decoder skips characters outside the base64 alphabet, so "%%%" read as an
            # empty cursor (the first page): a cursor must be exactly what `next` carried.
            try:
                fields = parse_qs(b64decode(encoded, validate=True).decode("ascii"), keep_blank_values=True)
            except (ValueError, UnicodeDecodeError):
                raise InvalidCursor() from None
            if not fields or not set(fields) <= {"o", "r", "p"}:
                raise InvalidCursor()
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise InvalidCursor() from None
        if cursor is not None and cursor.position is not None:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                field.to_python(cursor.position)
            except (DjangoValidationError, ValueError, TypeError, OverflowError):
                raise InvalidCursor() from None
            if "\x00" in cursor.position:  # PostgreSQL refuses NUL in any text parameter
                raise InvalidCursor()
        return cursor

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The opaque cursor from a page's `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page (1–{self.max_page_size}, default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }


class OldestFirstPage(CursorPage):
    ordering = ("created_at", "id")
