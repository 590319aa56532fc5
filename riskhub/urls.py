from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from riskhub import errors
from riskhub.health import healthz, readyz
from riskhub.metrics import metrics_view

urlpatterns = [
    path("api/v1/", include("blacklist.urls")),
    path("api/v1/", include("scoring.urls")),
    path("api/v1/", include("disputes.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/", errors.api_not_found),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics_view),
    path("admin/", admin.site.urls),
]

handler400 = errors.handler400
handler403 = errors.handler403
handler404 = errors.handler404
handler500 = errors.handler500
