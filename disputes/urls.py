from django.urls import path

from disputes import link_apis, views

urlpatterns = [
    path("appeals/start", views.AppealStartApi.as_view(), name="appeals-start"),
    path("appeals/session", views.AppealSessionApi.as_view(), name="appeals-session"),
    path("appeals/flags", views.AppealFlagsApi.as_view(), name="appeals-flags"),
    path("appeals", views.AppealCreateApi.as_view(), name="appeals"),
    path("disputes", views.DisputeListApi.as_view(), name="disputes"),
    path("disputes/<uuid:dispute_id>/response", views.DisputeResponseApi.as_view(), name="dispute-response"),
    path("admin/disputes", views.AdminDisputeListApi.as_view(), name="admin-disputes"),
    path(
        "admin/disputes/<uuid:dispute_id>/resolve", views.AdminDisputeResolveApi.as_view(), name="admin-dispute-resolve"
    ),
    path("admin/audit", views.AdminAuditApi.as_view(), name="admin-audit"),
    path("appeals/links", link_apis.AppealLinksApi.as_view(), name="appeals-links"),
    path("admin/link-contests", link_apis.AdminLinkContestListApi.as_view(), name="admin-link-contests"),
    path(
        "admin/link-contests/<uuid:contest_id>/resolve",
        link_apis.AdminLinkContestResolveApi.as_view(),
        name="admin-link-contest-resolve",
    ),
    path("admin/links", link_apis.AdminLinksApi.as_view(), name="admin-links"),
]
