from django.urls import path

from scoring import views

urlpatterns = [
    path("decisions", views.decisions, name="decisions"),
    path("policy", views.PolicyApi.as_view(), name="policy"),
]
