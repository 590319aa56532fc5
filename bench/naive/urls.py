from django.urls import path

from naive import views

urlpatterns = [
    path("flags/batch", views.flags_batch),
    path("decisions", views.decision),
    path("readyz", views.ready),
]
