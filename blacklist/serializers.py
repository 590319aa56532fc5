"""Serializers shared by several endpoints: the strict base and the `buyer` object."""

import phonenumbers
from rest_framework import serializers

from identity.identifiers import MAX_IDENTIFIER_LENGTH, IdentifierKind, InvalidIdentifier, identifiers_from

COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS) - {"001"}


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
        kinds = [k for k in IdentifierKind.values if attrs.get(k) not in (None, "")]
        if not kinds:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Give at least one identifier: {', '.join(IdentifierKind.values)}."]}
            )
        country = attrs.get("country")
        try:
            identifiers = identifiers_from({k: attrs[k] for k in kinds}, country=country)
        except InvalidIdentifier as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return {"identifiers": identifiers, "country": country}
