"""Words for the status and role codes the pages show, translatable like every other string."""

from django.utils.translation import gettext_lazy as _

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
