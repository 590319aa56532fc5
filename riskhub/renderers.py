"""JSON bytes for the decision endpoint, as DRF's JSONRenderer would write them, by orjson.

The decision view (scoring.views.decisions) renders its body on every request; DRF's renderer
(json.dumps with its encoder class) cost 8 µs of CPU per body, orjson 1.5 (docs/benchmarks.md).
For the data that body holds — dicts with text keys, lists, text, integers, booleans and None —
the bytes are DRF's own with its default settings (compact, UTF-8, not ASCII-escaped), including
its one rewrite: U+2028 and U+2029 written as escapes, which JSON allows raw but JavaScript
source did not. Only for such data: orjson writes floats, dates and UUIDs its own way, and
raises TypeError for types it does not know, where DRF's encoder would convert them.
"""

import orjson

_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


def json_bytes(data):
    """`data` (dicts, lists, text, integers, booleans, None) as DRF's JSONRenderer renders it."""
    body = orjson.dumps(data)
    if b"\xe2\x80" in body:  # the first two bytes of both separators in UTF-8
        body = body.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
    return body
