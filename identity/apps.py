from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Buyer identity"

    def ready(self):
        # The lowest of the project's apps, so every app can filter with `__any` (riskhub.lookups).
        from riskhub import lookups

        lookups.register()
