from django.urls import path

from blacklist import views

urlpatterns = [
    path("flags", views.FlagSubmitApi.as_view(), name="flags"),
    path("flags/batch", views.FlagBatchApi.as_view(), name="flags-batch"),
    path("flags/export", views.FlagExportApi.as_view(), name="flags-export"),
    path("flags/<uuid:flag_id>", views.FlagRetractApi.as_view(), name="flag-retract"),
    path("reasons", views.ReasonListApi.as_view(), name="reasons"),
]
