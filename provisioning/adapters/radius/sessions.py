"""Live sessions changed from Python (RFC 5176, with pyrad): a CoA-Request with new attributes
(a plan's rate, the walled garden), or a Disconnect-Request, to the NAS of each open session
(radacct.nasipaddress, port RADIUS_COA_PORT, the secret from the ``nas`` table or
RADIUS_COA_SECRET).

Sending is idempotent: it is always about the sessions open now, so a retry sends again to
whatever is still open. A CoA that is refused (NAK) or not answered falls back to a Disconnect:
the router reconnects and gets the new attributes at sign-in. A Disconnect-NAK saying the NAS
has no such session (Error-Cause 503) means the session is gone already (radacct lags behind).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from pyrad import client, dictionary, packet

from provisioning.adapters.radius.store import Session

logger = logging.getLogger(__name__)

DICTIONARY_PATH = Path(__file__).with_name("dictionary")
SESSION_CONTEXT_NOT_FOUND = 503

# What each answer is called in a task's reference and in the logs.
ACK, NAK, GONE, NO_ANSWER = "ACK", "NAK", "gone", "no answer"


@cache
def radius_dictionary() -> dictionary.Dictionary:
    return dictionary.Dictionary(str(DICTIONARY_PATH))


@dataclass
class PushOutcome:
    """What became of the open sessions: each packet's answer counted (``"CoA-ACK"``,
    ``"Disconnect-NAK"``...), and the sessions still online with the old attributes because
    their NAS did not answer (``unreachable``) or refused to disconnect them (``refused``)."""

    sessions: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    unreachable: list[Session] = field(default_factory=list)
    refused: list[Session] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unreachable and not self.refused

    def summary(self) -> str:
        if not self.sessions:
            return "no open session"
        return ", ".join(f"{name} x{count}" for name, count in sorted(self.answers.items()))


def _client(nas_ip: str, secret: str) -> client.Client:
    return client.Client(
        server=nas_ip,
        secret=secret.encode(),
        dict=radius_dictionary(),
        coaport=int(settings.RADIUS_COA_PORT),
        timeout=float(settings.RADIUS_COA_TIMEOUT_SECONDS),
        retries=max(1, int(settings.RADIUS_COA_RETRIES)),
    )


def _send(
    nas: client.Client, session: Session, *, code: int, attributes: Mapping[str, str | int]
) -> str:
    """Send one CoA or Disconnect request about ``session``; ACK, NAK, GONE or NO_ANSWER."""
    request = nas.CreateCoAPacket(code=code)
    request["User-Name"] = session.username
    request["Acct-Session-Id"] = session.session_id
    for name, value in attributes.items():
        request[name] = value
    try:
        reply = nas.SendPacket(request)
    except (client.Timeout, OSError):
        return NO_ANSWER
    if reply.code in (packet.CoAACK, packet.DisconnectACK):
        return ACK
    causes = reply.get("Error-Cause") or []
    if code == packet.DisconnectRequest and any(
        cause in (SESSION_CONTEXT_NOT_FOUND, "Session-Context-Not-Found") for cause in causes
    ):
        return GONE
    return NAK


def push(
    sessions: Sequence[Session],
    *,
    secrets: Mapping[str, str],
    attributes: Mapping[str, str | int] | None,
) -> PushOutcome:
    """Change each session by CoA with ``attributes`` (falling back to Disconnect), or, with
    ``attributes=None``, disconnect it. Never raises for network trouble: it is counted."""
    outcome = PushOutcome(sessions=len(sessions))
    clients: dict[str, client.Client] = {}
    try:
        for session in sessions:
            nas = clients.get(session.nas_ip)
            if nas is None:
                secret = secrets.get(session.nas_ip) or str(settings.RADIUS_COA_SECRET)
                nas = clients[session.nas_ip] = _client(session.nas_ip, secret)
            if attributes is not None:
                answer = _send(nas, session, code=packet.CoARequest, attributes=attributes)
                outcome.answers[f"CoA-{answer}"] += 1
                logger.info(
                    "CoA for %s session %s at NAS %s: %s",
                    session.username,
                    session.session_id,
                    session.nas_ip,
                    answer,
                )
                if answer == ACK:
                    continue
            answer = _send(nas, session, code=packet.DisconnectRequest, attributes={})
            outcome.answers[f"Disconnect-{answer}"] += 1
            logger.info(
                "Disconnect for %s session %s at NAS %s: %s",
                session.username,
                session.session_id,
                session.nas_ip,
                answer,
            )
            if answer == NO_ANSWER:
                outcome.unreachable.append(session)
            elif answer == NAK:
                outcome.refused.append(session)
    finally:
        for nas in clients.values():
            nas._CloseSocket()  # pyrad keeps one socket per client; no public close
    return outcome
