from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        from observability.registry import register_gauge
        from reconciliation import tasks  # noqa: F401  (registers the Celery task everywhere)
        from reconciliation.selectors import open_mismatch_counts

        # Counted on /metrics at each scrape: one grouped query over the open-list index.
        register_gauge(
            "reconciliation_open_mismatches",
            "Open disagreements between orders, billing, the network and the installed base.",
            lambda: {(kind,): n for kind, n in open_mismatch_counts().items()},
            labels=("kind",),
        )
