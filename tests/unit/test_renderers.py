"""riskhub.renderers.json_bytes writes what DRF's JSONRenderer writes, for the data a decision
body holds (the decision view answers with it)."""

from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from riskhub.renderers import json_bytes

_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]))  # no lone surrogates
_JSON_READY = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(_TEXT, _JSON_READY, max_size=8))  # a body is an object (DRF writes None as b"")
def test_the_bytes_are_drfs_for_any_json_ready_body(data):
    assert json_bytes(data) == JSONRenderer().render(data)


def test_line_and_paragraph_separators_are_escaped_as_drf_escapes_them():
    data = {"explanation": "a\u2028b\u2029c", "label": "Nachnahme verweigert – ü €", "own": [None, True]}
    assert json_bytes(data) == JSONRenderer().render(data)
    assert b"\\u2028" in json_bytes(data) and "\u2028".encode() not in json_bytes(data)
