from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Due process"

    def ready(self):
        from disputes import schema  # noqa: F401 - registers the OpenAPI description of buyer tokens
