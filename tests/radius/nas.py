"""A NAS (a BNG or a MikroTik router) for the tests, speaking real RADIUS with pyrad:

- ``dial(user, password)`` sends an Access-Request to FreeRADIUS; on Access-Accept it keeps the
  reply attributes as the live session's policy and sends Accounting-Request Start, so the
  session is open in radacct as on a real NAS;
- it listens on 127.0.0.1 for CoA-Request and Disconnect-Request (RFC 5176): CoA-ACK and the
  new attributes applied for a live session, NAK with Error-Cause Session-Context-Not-Found
  otherwise; a Disconnect-ACK ends the session with Accounting Stop (radacct gets its stop
  time). ``behaviour`` makes it refuse every CoA ("nak-coa", like a NAS without CoA support) or
  answer nothing ("silent", unreachable).
"""

from __future__ import annotations

import select
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from pyrad import client, packet

from provisioning.adapters.radius.sessions import radius_dictionary


@dataclass
class LiveSession:
    session_id: str
    username: str
    framed_ip: str
    policy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dial:
    accepted: bool
    attributes: dict[str, Any]
    session: LiveSession | None = None


def _first(pkt: packet.Packet) -> dict[str, Any]:
    return {str(name): pkt[name][0] for name in pkt.keys()}  # noqa: SIM118  # names, not codes


class NasSimulator:
    def __init__(self, *, auth_port: int, acct_port: int, secret: str) -> None:
        self.secret = secret
        self.radius = client.Client(
            server="127.0.0.1",
            authport=auth_port,
            acctport=acct_port,
            secret=secret.encode(),
            dict=radius_dictionary(),
            timeout=3,
            retries=1,
        )
        self._lock = threading.Lock()
        self.sessions: dict[str, LiveSession] = {}
        self.received: list[tuple[str, dict[str, Any], str]] = []  # (request, attrs, answer)
        self.behaviour = "answer"
        self._next_ip = 10
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.coa_port = int(self.socket.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="nas-simulator", daemon=True)
        self._thread.start()

    # --- the subscriber's side -----------------------------------------------------------
    def dial(self, username: str, password: str) -> Dial:
        request = self.radius.CreateAuthPacket(
            code=packet.AccessRequest, User_Name=username, NAS_IP_Address="127.0.0.1", NAS_Port=1
        )
        request["User-Password"] = request.PwCrypt(password)
        reply = self.radius.SendPacket(request)
        attributes = _first(reply)
        if reply.code != packet.AccessAccept:
            return Dial(accepted=False, attributes=attributes)
        with self._lock:
            self._next_ip += 1
            dynamic = f"100.64.0.{self._next_ip}"
        session = LiveSession(
            session_id=uuid.uuid4().hex[:16],
            username=username,
            framed_ip=str(attributes.get("Framed-IP-Address", dynamic)),
            policy=attributes,
        )
        with self._lock:
            self.sessions[session.session_id] = session
        self._account(session, "Start")
        return Dial(accepted=True, attributes=attributes, session=session)

    def _account(self, session: LiveSession, status: str) -> None:
        request = self.radius.CreateAcctPacket(
            User_Name=session.username,
            Acct_Session_Id=session.session_id,
            NAS_IP_Address="127.0.0.1",
            NAS_Port=1,
            Framed_IP_Address=session.framed_ip,
        )
        request["Acct-Status-Type"] = status
        if status == "Stop":
            request["Acct-Terminate-Cause"] = "Admin-Reset"
        reply = self.radius.SendPacket(request)
        assert reply.code == packet.AccountingResponse

    def online(self, username: str) -> list[LiveSession]:
        with self._lock:
            return [s for s in self.sessions.values() if s.username == username]

    # --- the NAS's side: CoA and Disconnect ----------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.socket], [], [], 0.1)
            if not ready:
                continue
            data, peer = self.socket.recvfrom(4096)
            try:
                request = packet.CoAPacket(
                    packet=data, secret=self.secret.encode(), dict=radius_dictionary()
                )
            except packet.PacketError:
                continue
            if not request.VerifyCoARequest():
                continue  # wrong secret: a real NAS drops it silently
            reply = self._handle(request)
            if reply is not None:
                self.socket.sendto(reply.ReplyPacket(), peer)

    def _handle(self, request: packet.CoAPacket) -> packet.Packet | None:
        attributes = _first(request)
        disconnect = request.code == packet.DisconnectRequest
        kind = "Disconnect-Request" if disconnect else "CoA-Request"
        with self._lock:
            session = self.sessions.get(str(attributes.get("Acct-Session-Id", "")))
            if session is not None and session.username != attributes.get("User-Name"):
                session = None
        reply = request.CreateReply()
        if self.behaviour == "silent":
            self.received.append((kind, attributes, "none"))
            return None
        if disconnect and session is not None:
            with self._lock:
                self.sessions.pop(session.session_id, None)
            self._account(session, "Stop")
            answer = "ACK"
        elif not disconnect and session is not None and self.behaviour != "nak-coa":
            for name, value in attributes.items():
                if name not in ("User-Name", "Acct-Session-Id"):
                    session.policy[name] = value
            answer = "ACK"
        else:
            reply.code = packet.DisconnectNAK if disconnect else packet.CoANAK
            reply["Error-Cause"] = (
                "Session-Context-Not-Found" if session is None else "Unsupported-Attribute"
            )
            answer = "NAK"
        self.received.append((kind, attributes, answer))
        return reply

    def reset(self) -> None:
        with self._lock:
            self.sessions.clear()
            self.received.clear()
            self.behaviour = "answer"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()
        self.radius._CloseSocket()
