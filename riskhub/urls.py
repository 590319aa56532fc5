from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from console.views.public import landing, page_not_found, permission_denied
from riskhub import errors
from riskhub.health import healthz, readyz
from riskhub.metrics import metrics_view

urlpatterns = [
    # Decisions first: Django tries the patterns in order, and every order asks for one.
    path("api/v1/", include("scoring.urls")),
    path("api/v1/", include("blacklist.urls")),
    path("api/v1/", include("disputes.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (no inline script under our CSP);
    # Swagger UI still needs inline styles.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="docs",
    ),
    re_path(r"^api/", errors.api_not_found),
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics_view),
    path("admin/", admin.site.urls),
    path("", landing, name="landing"),
    path("", include("console.urls")),
]

handler400 = errors.handler400
# Web pages get HTML error pages; /api/ keeps the JSON envelope (the handlers delegate).
handler403 = permission_denied
handler404 = page_not_found
handler500 = errors.handler500
