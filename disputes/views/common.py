"""Serializers the due-process APIs share."""

from rest_framework import serializers

from blacklist.models import FlagStatus
from blacklist.serializers import choice
from disputes.models import DisputeStatus
from identity.identifiers import MAX_IDENTIFIER_LENGTH, InvalidIdentifier, normalise_email


def key_actor(request):
    """How an admin API key is recorded as the actor of what it did."""
    return f"key:{request.auth.pk}"


class EmailField(serializers.CharField):
    """An email address that is validated without ever being echoed back."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_IDENTIFIER_LENGTH, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            normalise_email(value)
        except InvalidIdentifier as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class DisputeFlagSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField(source="reason_id")
    order_ref = serializers.CharField()
    status = serializers.ChoiceField(choices=FlagStatus.choices)
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class SellerDisputeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=DisputeStatus.choices)
    flag = DisputeFlagSerializer()
    statement = serializers.CharField(help_text="The buyer's statement.")
    created_at = serializers.DateTimeField()
    response = serializers.CharField(source="seller_response")
    evidence = serializers.ListField(source="seller_evidence", child=serializers.CharField())
    responded_at = serializers.DateTimeField(source="seller_responded_at", allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField()


class StatusFilterSerializer(serializers.Serializer):
    status = choice(DisputeStatus.values, required=False)
