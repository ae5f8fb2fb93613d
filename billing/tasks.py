from celery import shared_task

from billing import services


@shared_task(name="billing.start_billing")
def start_billing(order_id: str) -> None:
    services.billing_account_start(order_id)
