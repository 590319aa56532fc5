import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from riskhub.errors import ApplicationError


class LimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over MAX_REQUEST_BYTES with a 413.

    DRF hands the raw WSGI stream to parsers, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE,
    so the limit is enforced here, on what is actually read.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_REQUEST_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApplicationError(
                f"The request body is larger than {limit} bytes.", code="payload_too_large", status=413
            )
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"Malformed JSON: {exc.__class__.__name__}.") from None
