from django.apps import AppConfig


class BlacklistConfig(AppConfig):
    name = "blacklist"
    verbose_name = "Blacklist"

    def ready(self):
        from blacklist import schema  # noqa: F401 - registers the OpenAPI auth extension
