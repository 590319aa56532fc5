"""Input validation with a serializer's fields built once, for the request hot paths.

DRF deep-copies every declared field (nested serializers included) each time a serializer is
instantiated: on the decision endpoint that copying cost more than the validation itself. `prebuilt`
builds one instance of the serializer up front and validates with its bound fields, following the
steps of `Serializer.run_validation` (StrictSerializer's unknown-field and not-text rules, each
field's `run_validation`, `validate_<field>` hooks, the serializer's `validate`).

It only ever answers for input the serializer accepts: at the first sign of trouble (an unknown
or missing field, a type it does not take as is, any ValidationError) it returns None, and the
caller runs the real serializer, which produces the error details. So the accepted input and its
validated data are the serializer's, and every error is the serializer's own.
tests/api/test_decision_view.py checks the two agree on generated input.
"""

import re
from collections import namedtuple
from functools import cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator


class _Defer(Exception):
    """The input is not one the prebuilt fields answer for; the serializer must see it."""


def prebuilt(serializer_class):
    """A function data → the validated data `serializer_class(data=data)` would produce, or None
    when the serializer itself has to look at `data` (it may reject it)."""

    @cache
    def template():
        serializer = serializer_class()
        _check_supported(serializer)
        return _plan(serializer)

    def validate(data):
        try:
            return _validated(template(), data)
        except _Defer:
            return None

    return validate


def validator(serializer_class):
    """A function data → `serializer_class`'s validated data, raising its ValidationError: the
    prebuilt fields answer for valid input, a fresh serializer for anything else (so the error
    details are always the serializer's own)."""
    fast = prebuilt(serializer_class)

    def validate(data):
        validated = fast(data)
        if validated is None:
            serializer = serializer_class(data=data)
            serializer.is_valid(raise_exception=True)
            validated = serializer.validated_data
        return validated

    return validate


def _check_supported(serializer):
    """Refuse, once, serializers using what `_validated` does not replicate."""
    meta_validators = getattr(getattr(serializer, "Meta", None), "validators", None)
    if meta_validators or serializer.validators:
        raise TypeError(f"{type(serializer).__name__}: serializer-level validators are not supported")
    for name, field in serializer.fields.items():
        if field.read_only or field.default is not empty or field.source != name:
            raise TypeError(f"{type(serializer).__name__}.{name}: read-only, default or source not supported")
        if isinstance(field, serializers.ListSerializer | serializers.ListField | serializers.DictField):
            raise TypeError(f"{type(serializer).__name__}.{name}: list and dict fields are not supported")
        if isinstance(field, serializers.BaseSerializer):
            _check_supported(field)


# What _validated needs of one serializer, read once from its bound fields: iterating DRF's
# BindingDict and comparing key views through collections.abc cost a quarter of validating a
# decision's body.
_Plan = namedtuple("_Plan", "serializer names steps")
_Step = namedtuple("_Step", "name field required nested text plain hook")


def _plan(serializer):
    steps = []
    for name, field in serializer.fields.items():
        nested = _plan(field) if isinstance(field, serializers.BaseSerializer) else None
        text = isinstance(field, serializers.CharField)
        plain = None if nested else _plain_text(field)
        hook = getattr(serializer, f"validate_{name}", None)
        steps.append(_Step(name, field, field.required, nested, text, plain, hook))
    return _Plan(serializer, frozenset(serializer.fields), tuple(steps))


def _validated(plan, data):
    if type(data) is not dict:
        raise _Defer
    if not data.keys() <= plan.names:  # StrictSerializer: unknown fields are an error
        raise _Defer
    attrs = {}
    for step in plan.steps:
        if step.name not in data:
            if step.required:
                raise _Defer
            continue
        value = data[step.name]
        if step.nested is not None:
            value = _validated(step.nested, value)
        else:
            if step.text and type(value) is not str:
                raise _Defer  # StrictSerializer refuses numbers for text; CharField other types
            if step.plain is not None:
                value = _text_checked(step.plain, value)
            else:
                try:
                    value = step.field.run_validation(value)
                except (serializers.ValidationError, DjangoValidationError):
                    raise _Defer from None
        if step.hook is not None:
            try:
                value = step.hook(value)
            except (serializers.ValidationError, DjangoValidationError):
                raise _Defer from None
        attrs[step.name] = value
    try:
        return plan.serializer.validate(attrs)
    except (serializers.ValidationError, DjangoValidationError):
        raise _Defer from None


# A plain CharField (no subclass, only its own length and character validators) is checked
# inline: DRF's run_validation → validate_empty_values → to_internal_value → run_validators chain
# cost ~10 µs per field, a fifth of validating a flag. `_text_checked` is that chain for a str.
_PlainText = namedtuple("_PlainText", "trim allow_blank max_length min_length")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_VALIDATORS = (
    MaxLengthValidator,
    MinLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)


def _plain_text(field):
    """The field's _PlainText, or None if it is not a plain CharField (read once, by _plan)."""
    if type(field) is not serializers.CharField or any(type(v) not in _PLAIN_VALIDATORS for v in field.validators):
        return None
    return _PlainText(field.trim_whitespace, field.allow_blank, field.max_length, field.min_length)


def _text_checked(plain, value):
    if plain.trim:
        value = value.strip()
    if value == "":
        if not plain.allow_blank:
            raise _Defer
        return ""
    if plain.max_length is not None and len(value) > plain.max_length:
        raise _Defer
    if plain.min_length is not None and len(value) < plain.min_length:
        raise _Defer
    if "\x00" in value or _SURROGATE.search(value):
        raise _Defer
    return value
