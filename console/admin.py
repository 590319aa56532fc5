from django.contrib import admin

from console.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "seller", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "seller__name")
    raw_id_fields = ("user", "seller")
    list_select_related = ("user", "seller")
