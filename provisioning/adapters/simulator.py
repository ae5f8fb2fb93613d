"""A network simulator with configurable latency and deterministic failure rules.

Rules come from settings.NETWORK_SIMULATOR_RULES (JSON in the environment; ``[]`` is a network
that never fails) or, when that is not set, DEFAULT_RULES.
Each rule is a dict:

    {"when": {"exchange": "Faultybridge"},     # match on any ActivationRequest fields:
                                               #   exchange, postcode, postcode_prefix, plan_code
     "step": "reserve_port",                   # which step fails (default: the first)
     "error": "PORT_UNAVAILABLE",              # a provisioning.models.ReasonCode
     "transient": false,                       # may a retry succeed?
     "fail_attempts": 2}                       # fail only the first N attempts (default: all)

The first matching rule wins. The same request always gives the same outcome.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings

from provisioning.adapters.base import ActivationRequest, StepResult
from provisioning.models import ReasonCode, StepName

DEFAULT_RULES: list[dict[str, Any]] = [
    # A full exchange: no free ports until someone frees one. Ends in the exception queue.
    {
        "when": {"exchange": "Faultybridge"},
        "step": "reserve_port",
        "error": "PORT_UNAVAILABLE",
        "transient": False,
    },
    # A flaky element manager: the first attempt times out, the automatic retry succeeds.
    {
        "when": {"exchange": "Flakeyford"},
        "step": "subscriber_profile",
        "error": "NETWORK_TIMEOUT",
        "transient": True,
        "fail_attempts": 1,
    },
]

_MESSAGES = {
    ReasonCode.PORT_UNAVAILABLE: "No free access port at exchange {exchange}.",
    ReasonCode.PROFILE_REJECTED: "Subscriber profile rejected by the AAA server.",
    ReasonCode.SPEED_PROFILE_FAILED: "Speed profile {plan_code} not applied.",
    ReasonCode.LINE_TEST_FAILED: "Line test at {postcode} failed.",
    ReasonCode.NETWORK_TIMEOUT: "Element manager at {exchange} did not answer in time.",
}


def _matches(when: dict[str, Any], request: ActivationRequest) -> bool:
    for key, expected in when.items():
        if key == "postcode_prefix":
            if not request.postcode.startswith(str(expected).replace(" ", "").upper()):
                return False
        elif key == "postcode":
            if request.postcode != str(expected).replace(" ", "").upper():
                return False
        elif str(getattr(request, key, None)) != str(expected):
            return False
    return True


class SimulatedNetworkAdapter:
    def __init__(
        self, *, rules: list[dict[str, Any]] | None = None, latency_ms: int | None = None
    ) -> None:
        if rules is None:
            rules = settings.NETWORK_SIMULATOR_RULES
        # An empty list is a choice (a network that never fails); only "not set" means default.
        self.rules = DEFAULT_RULES if rules is None else rules
        self.latency_ms = (
            settings.NETWORK_SIMULATOR_LATENCY_MS if latency_ms is None else latency_ms
        )

    def execute(self, step: StepName, request: ActivationRequest) -> StepResult:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        for rule in self.rules:
            if not _matches(rule.get("when", {}), request):
                continue
            if rule.get("step", StepName.RESERVE_PORT) != step:
                continue
            fail_attempts = rule.get("fail_attempts")
            if fail_attempts is not None and request.attempt > int(fail_attempts):
                continue
            code = ReasonCode(rule.get("error", ReasonCode.NETWORK_TIMEOUT))
            message = _MESSAGES.get(code, code.label).format(**request.__dict__)
            return StepResult.failure(code, message, transient=bool(rule.get("transient")))
        # Same order and step, same reference: doing a step twice changes nothing.
        digest = hashlib.sha256(f"{request.order_id}:{step}".encode()).hexdigest()[:8].upper()
        return StepResult.success(f"{step.upper()}-{digest}")
