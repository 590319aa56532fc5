"""Console and buyer-page forms. They validate input and hand plain data to the services;
identifiers are normalised and digested here (identity.identifiers), never stored raw."""

from datetime import UTC, datetime, time

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blacklist.selectors import reasons_all
from blacklist.serializers import COUNTRIES
from console.models import Role
from console.words import STATUS_WORDS
from identity.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    IdentifierKind,
    InvalidIdentifier,
    identifiers_from,
    normalise_email,
)
from scoring.policy import OVERRIDE_IGNORE, OVERRIDE_REVIEW
from scoring.views import PolicySerializer

# Browsers keep typed values for autofill: identifiers must not end up in that history either.
_PRIVATE = {"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}
IDENTIFIER_FIELDS = [k.value for k in IdentifierKind]


def _identifier(label, help_text="", widget=None):
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_IDENTIFIER_LENGTH,
        help_text=help_text,
        widget=widget or forms.TextInput(attrs=_PRIVATE),
    )


def _country_choices():
    return [("", _("—"))] + [(c, c) for c in sorted(COUNTRIES)]


class BuyerFieldsForm(forms.Form):
    """The buyer's identifiers; `cleaned_data["identifiers"]` holds their digests only."""

    email = _identifier(_("Email"), widget=forms.EmailInput(attrs=_PRIVATE))
    phone = _identifier(_("Phone"), _("Any format; the country helps read local numbers."))
    country = forms.ChoiceField(label=_("Country"), required=False, choices=_country_choices)
    platform_id = _identifier(_("Platform account"), _('"<platform>:<account>", e.g. shopee:8812734'))
    address = forms.CharField(
        label=_("Address"), required=False, max_length=500, widget=forms.Textarea(attrs={**_PRIVATE, "rows": 2})
    )
    payment_fingerprint = _identifier(_("Payment fingerprint"))

    def clean(self):
        data = super().clean()
        given = {k: data[k] for k in IDENTIFIER_FIELDS if data.get(k)}
        if not given:
            raise forms.ValidationError(
                _("Give at least one identifier: email, phone, platform account, address or payment fingerprint.")
            )
        try:
            data["identifiers"] = identifiers_from(given, country=data.get("country") or None)
        except InvalidIdentifier as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return data


class CheckForm(BuyerFieldsForm):
    payment_method = forms.ChoiceField(
        label=_("Order payment method"),
        required=False,
        choices=[("", _("not given")), ("prepaid", _("prepaid")), ("cod", _("cash on delivery"))],
    )

    def order(self):
        method = self.cleaned_data.get("payment_method")
        return {"payment_method": method} if method else {}


def _reason_choices():
    return [(r.code, r.label) for r in reasons_all()]


class FlagForm(BuyerFieldsForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=_reason_choices)
    order_ref = forms.CharField(label=_("Your order reference"), max_length=64)
    occurred_on = forms.DateField(
        label=_("Date of the order"),
        required=False,
        help_text=_("Leave empty for today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=1000,
        help_text=_("Only you and riskhub's reviewers see it. Emails and phone numbers are removed."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_occurred_on(self):
        day = self.cleaned_data.get("occurred_on")
        if day and day > timezone.now().date():
            raise forms.ValidationError(_("Must not be in the future."))
        return day

    def occurred_at(self):
        day = self.cleaned_data.get("occurred_on")
        return datetime.combine(day, time.min, tzinfo=UTC) if day else None


class RetractForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, retract this flag"))


class FlagFilterForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), required=False, choices=lambda: [("", _("any"))] + _reason_choices())
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("any"))] + [(s, STATUS_WORDS.get(s, s)) for s in statuses]


class DisputeResponseForm(forms.Form):
    response = forms.CharField(label=_("Your answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    evidence = forms.CharField(
        label=_("Evidence (optional)"),
        required=False,
        help_text=_("One item per line, e.g. a tracking link. At most 10."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_evidence(self):
        items = [line.strip() for line in self.cleaned_data["evidence"].splitlines() if line.strip()]
        if len(items) > 10:
            raise forms.ValidationError(_("At most 10 items."))
        if any(len(item) > 500 for item in items):
            raise forms.ValidationError(_("Each item may be at most 500 characters."))
        return items


_OVERRIDES = [("", _("default")), (OVERRIDE_IGNORE, _("ignore")), (OVERRIDE_REVIEW, _("always review"))]


class PolicyForm(forms.Form):
    review_at = forms.IntegerField(label=_("Review from score"), min_value=0, max_value=100)
    no_ship_at = forms.IntegerField(label=_("Do not ship from score"), min_value=0, max_value=100)
    own_flags_block = forms.BooleanField(label=_("My own active flag means do not ship"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reasons = list(reasons_all())
        for reason in self.reasons:
            self.fields[f"override_{reason.code}"] = forms.ChoiceField(
                label=reason.label, required=False, choices=_OVERRIDES
            )

    @classmethod
    def initial_from(cls, policy):
        initial = {
            "review_at": policy.review_at,
            "no_ship_at": policy.no_ship_at,
            "own_flags_block": policy.own_flags_block,
        }
        initial.update({f"override_{code}": action for code, action in policy.reason_overrides.items()})
        return initial

    def override_fields(self):
        return [self[f"override_{r.code}"] for r in self.reasons]

    def clean(self):
        """The API's own policy rules (scoring.views.PolicySerializer), so both agree."""
        data = super().clean()
        if self.errors:
            return data
        body = {
            "review_at": data["review_at"],
            "no_ship_at": data["no_ship_at"],
            "own_flags_block": data["own_flags_block"],
            "reason_overrides": {
                r.code: data[f"override_{r.code}"] for r in self.reasons if data.get(f"override_{r.code}")
            },
        }
        serializer = PolicySerializer(data=body)
        if not serializer.is_valid():
            for field, messages in serializer.errors.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(field if field in self.fields else None, str(message))
            return data
        return {**data, "policy": serializer.validated_data}


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What uses the key, e.g. the shop system."))


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, I am sure"))


class MemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


# --- the buyer's page -------------------------------------------------------------------------


class BuyerEmailForm(forms.Form):
    email = forms.CharField(
        label=_("Your email address"),
        max_length=MAX_IDENTIFIER_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        try:
            normalise_email(email)
        except InvalidIdentifier:
            raise forms.ValidationError(_("Enter a valid email address.")) from None
        return email


class BuyerCodeForm(BuyerEmailForm):
    code = forms.CharField(
        label=_("The code from the email"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("Your statement"),
        max_length=2000,
        help_text=_("Explain why this flag is wrong. Do not include phone numbers or email addresses."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class SignInForm(AuthenticationForm):
    """Django's sign-in form; users sign in with their email address (their username)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "off"})
