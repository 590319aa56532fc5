from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self):
        # Register the scorer's task now: writers enqueue it by name (identity.marks).
        from scoring import tasks  # noqa: F401
