from django.urls import path

from disputes import link_apis
from disputes.views import admin, buyer, seller

urlpatterns = [
    path("appeals/start", buyer.AppealStartApi.as_view(), name="appeals-start"),
    path("appeals/session", buyer.AppealSessionApi.as_view(), name="appeals-session"),
    path("appeals/flags", buyer.AppealFlagsApi.as_view(), name="appeals-flags"),
    path("appeals", buyer.AppealCreateApi.as_view(), name="appeals"),
    path("disputes", seller.DisputeListApi.as_view(), name="disputes"),
    path("disputes/<uuid:dispute_id>/response", seller.DisputeResponseApi.as_view(), name="dispute-response"),
    path("admin/disputes", admin.AdminDisputeListApi.as_view(), name="admin-disputes"),
    path(
        "admin/disputes/<uuid:dispute_id>/resolve", admin.AdminDisputeResolveApi.as_view(), name="admin-dispute-resolve"
    ),
    path("admin/audit", admin.AdminAuditApi.as_view(), name="admin-audit"),
    path("appeals/links", link_apis.AppealLinksApi.as_view(), name="appeals-links"),
    path("admin/link-contests", link_apis.AdminLinkContestListApi.as_view(), name="admin-link-contests"),
    path(
        "admin/link-contests/<uuid:contest_id>/resolve",
        link_apis.AdminLinkContestResolveApi.as_view(),
        name="admin-link-contest-resolve",
    ),
    path("admin/links", link_apis.AdminLinksApi.as_view(), name="admin-links"),
]
