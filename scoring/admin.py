from django.contrib import admin

from scoring.models import BuyerScore, SellerPolicy


@admin.register(BuyerScore)
class BuyerScoreAdmin(admin.ModelAdmin):
    list_display = ("buyer", "score", "reporting_sellers", "computed_at")
    list_filter = ("score",)
    raw_id_fields = ("buyer",)
    readonly_fields = ("buyer", "score", "reporting_sellers", "reasons", "computed_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(SellerPolicy)
class SellerPolicyAdmin(admin.ModelAdmin):
    list_display = ("seller", "review_at", "no_ship_at", "own_flags_block", "updated_at")
    raw_id_fields = ("seller",)
