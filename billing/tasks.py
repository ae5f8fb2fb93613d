from celery import shared_task

from billing import services


@shared_task(name="billing.start_billing")
def start_billing(order_id: str) -> None:
    services.billing_account_start(order_id)


@shared_task(name="billing.recover_stuck_work")
def recover_stuck_work() -> int:
    return services.billing_recover_stuck_work()
