from celery import shared_task
from django.conf import settings

from kpis import refresh


# No system actor: the summary rows are a measure, not audited.
@shared_task(name="kpis.refresh_recent")
def refresh_recent() -> int:
    return refresh.kpis_refresh_recent(settings.KPI_REFRESH_RECENT_DAYS)


@shared_task(name="kpis.refresh_daily")
def refresh_daily() -> int:
    return refresh.kpis_refresh_recent(settings.KPI_REFRESH_DAILY_DAYS)
