"""The network adapter interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from provisioning.models import StepName


@dataclass(frozen=True)
class ActivationRequest:
    """Everything the network needs for one order, keyed by the shared order ID."""

    order_id: str
    attempt: int
    postcode: str
    address: str
    exchange: str
    technology: str
    plan_code: str
    download_mbps: int
    upload_mbps: int


@dataclass(frozen=True)
class StepResult:
    ok: bool
    network_reference: str = ""
    error_code: str = ""
    error_message: str = ""
    transient: bool = False

    @classmethod
    def success(cls, reference: str) -> StepResult:
        return cls(ok=True, network_reference=reference)

    @classmethod
    def failure(cls, code: str, message: str, *, transient: bool) -> StepResult:
        return cls(ok=False, error_code=code, error_message=message, transient=transient)


class NetworkAdapter(Protocol):
    def execute(self, step: StepName, request: ActivationRequest) -> StepResult:
        """Carry out ``step`` for ``request.order_id``.

        Must be idempotent per (order_id, step): doing a step that is already done returns
        success with the same reference. Network trouble is reported as a failed StepResult;
        an exception means a defect in the adapter (recorded as ADAPTER_ERROR).
        """
        ...
