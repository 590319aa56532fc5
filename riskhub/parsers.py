import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from riskhub.errors import PayloadTooLarge

# Valid UTF-8 cannot carry surrogates, so a lone one can only arrive as a JSON escape.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\\ud800-\\udfff]")


class LimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over MAX_REQUEST_BYTES with a 413.

    Django already refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF reads `request.body`
    (mapped to the same 413 in riskhub.errors); this check covers streams that bypass it.
    Anything json.loads cannot turn into data — bad UTF-8, bad syntax, nesting deep enough to
    exhaust the recursion limit — is a 400 `malformed_request`, never a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_REQUEST_BYTES
        return json_parse(stream.read(limit + 1) if stream is not None else b"")


def json_parse(raw):
    """The data of a JSON request body (bytes): 413 over MAX_REQUEST_BYTES, 400 when malformed.
    LimitedJSONParser (the DRF views) and the plain decision view both parse with it."""
    if len(raw) > settings.MAX_REQUEST_BYTES:
        raise PayloadTooLarge()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"Malformed JSON: {exc.__class__.__name__}.") from None
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(data):
        # Such strings cannot be stored or even rendered back in an error (as a field name).
        raise ParseError("Malformed JSON: a string holds a lone surrogate escape.")
    return data


def _has_lone_surrogate(data):
    """Whether any key or string in the parsed document holds a lone surrogate (iteratively:
    the document may nest as deep as json.loads allowed)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
