"""Words for the status codes the pages show, translatable like every other string."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS_WORDS = {
    "active": _("active"),
    "retracted": _("retracted"),
    "disputed": _("disputed"),
    "upheld": _("upheld"),
    "overturned": _("overturned"),
    "expired": _("expired"),
    "open": _("open"),
    "owner": _("owner"),
    "member": _("member"),
}


@register.filter
def status_word(code):
    return STATUS_WORDS.get(code, code)
