"""Serializers shared by several endpoints: the strict base and the `buyer` object."""

import phonenumbers
from django.utils import timezone
from rest_framework import serializers

from blacklist.selectors import reasons_cached
from blacklist.services.flags import FlagInput
from identity.identifiers import KINDS, MAX_IDENTIFIER_LENGTH, InvalidIdentifier, identifiers_from
from riskhub.validation import validator

COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) - {"001"}
CLOCK_SKEW = timezone.timedelta(minutes=5)


class StrictSerializer(serializers.Serializer):
    """Refuses unknown fields, so a typo ("emial") is an error rather than silently ignored.

    Text fields also refuse JSON numbers: DRF's CharField would quietly turn 4915112345678 or
    12.0 into a string, and an integration sending the wrong type should hear about it.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown[:20]})
            not_text = {
                name: [field.error_messages["invalid"]]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField) and isinstance(data.get(name), int | float)
            }
            if not_text:
                raise serializers.ValidationError(not_text)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField would also take "10", 10.0 and true."""

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF's BooleanField would also take "yes", "on", 1 and "0"."""

    def to_internal_value(self, data):
        if type(data) is not bool:
            self.fail("invalid")
        return data


def choice(choices, **kwargs):
    """A ChoiceField whose error does not echo the input back."""
    return serializers.ChoiceField(
        choices=choices,
        error_messages={"invalid_choice": f"Must be one of: {', '.join(choices)}."},
        **kwargs,
    )


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code, any case in, upper case out."""

    def __init__(self, **kwargs):
        super().__init__(max_length=2, min_length=2, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in COUNTRIES:
            raise serializers.ValidationError('Use an ISO 3166-1 alpha-2 country code, e.g. "DE".')
        return code


def _identifier_field():
    return serializers.CharField(required=False, max_length=MAX_IDENTIFIER_LENGTH, trim_whitespace=True)


class BuyerSerializer(StrictSerializer):
    platform_id = _identifier_field()
    email = _identifier_field()
    phone = _identifier_field()
    address = serializers.CharField(required=False, max_length=500, trim_whitespace=True)
    payment_fingerprint = _identifier_field()
    country = CountryField(required=False)

    def validate(self, attrs):
        """Normalise and digest; the result carries digests only (`identifiers`)."""
        kinds = [k for k in KINDS if attrs.get(k) not in (None, "")]
        if not kinds:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Give at least one identifier: {', '.join(KINDS)}."]}
            )
        country = attrs.get("country")
        try:
            identifiers = identifiers_from({k: attrs[k] for k in kinds}, country=country)
        except InvalidIdentifier as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return {"identifiers": identifiers, "country": country}


class FlagInputSerializer(StrictSerializer):
    buyer = BuyerSerializer()
    reason = serializers.CharField(max_length=40)
    order_ref = serializers.CharField(max_length=64)
    occurred_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def validate_reason(self, value):
        if value not in reasons_cached():
            raise serializers.ValidationError("Unknown reason code; GET /api/v1/reasons lists them.")
        return value

    def validate_occurred_at(self, value):
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("Must not be in the future.")
        return value


# Valid input is checked with fields built once (riskhub.validation): a batch of 500 flags would
# otherwise deep-copy the serializer's fields 500 times.
flag_input = validator(FlagInputSerializer)


def flag_input_item(validated):
    """The service's FlagInput for validated flag data."""
    return FlagInput(
        identifiers=tuple(validated["buyer"]["identifiers"]),
        reason=validated["reason"],
        order_ref=validated["order_ref"],
        occurred_at=validated.get("occurred_at"),
        note=validated.get("note", ""),
    )
