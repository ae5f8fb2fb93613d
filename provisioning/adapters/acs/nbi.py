"""A small client of GenieACS's northbound REST API (NBI, port 7557): only the calls the CPE
pre-registration makes (presets, device search, tags, connection requests).

Every call either returns what GenieACS answered or raises ``AcsTrouble`` with the reason code a
task result needs: an ACS that cannot be reached, does not answer in time or answers 5xx may do
better on a retry (transient); a 4xx is a request GenieACS will refuse again (not transient).
Nothing this module raises or logs carries a request body, so a password sent to the ACS stays
between us and the ACS; response text quoted in a message has the secrets it was given blanked.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import quote

import requests

from provisioning.models import ReasonCode

# How much of GenieACS's answer to quote in a failure: enough to tell a bad precondition from a
# missing route, too little to fill the exception queue.
_QUOTED_CHARS = 200


class AcsTrouble(Exception):
    """A call to the ACS did not do what it was asked: ``code`` (a ReasonCode) and ``transient``
    say what the task's result should be."""

    def __init__(self, code: str, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient


def _path_part(value: str) -> str:
    # GenieACS decodes each path segment once; a device id may itself hold %-escapes.
    return quote(value, safe="")


class GenieAcsClient:
    """One GenieACS NBI at ``url``. Our own password, and the ``secrets`` a call is given, are
    blanked from any of GenieACS's text quoted in an error."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        if username:
            self.session.auth = (username, password)
        self._secrets: tuple[str, ...] = tuple(s for s in (password,) if s)

    # --- presets ------------------------------------------------------------------------------
    def preset_put(self, name: str, preset: Mapping[str, Any], *, secrets: Collection[str]) -> None:
        """Create or replace the preset ``name`` (the same body twice is the same state)."""
        self._call("PUT", f"/presets/{_path_part(name)}", body=json.dumps(preset), secrets=secrets)

    def preset_delete(self, name: str) -> None:
        """Delete the preset ``name``; GenieACS answers 200 when there is none, so does this."""
        self._call("DELETE", f"/presets/{_path_part(name)}", tolerate=(404,))

    def presets_find(
        self,
        query: Mapping[str, Any],
        *,
        projection: Collection[str] = (),
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The presets matching a MongoDB ``query``, by name."""
        return self._find("presets", query, projection=projection, limit=limit)

    # --- devices ------------------------------------------------------------------------------
    def devices_find(
        self,
        query: Mapping[str, Any],
        *,
        projection: Collection[str] = ("_id",),
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The devices (routers that have contacted the ACS) matching a MongoDB ``query``."""
        return self._find("devices", query, projection=projection, limit=limit)

    def tag_add(self, device_id: str, tag: str) -> bool:
        """Tag the device; False if GenieACS does not know it (any more)."""
        path = f"/devices/{_path_part(device_id)}/tags/{_path_part(tag)}"
        return self._call("POST", path, tolerate=(404,)).status_code != 404

    def tag_remove(self, device_id: str, tag: str) -> bool:
        """Take the tag off the device; False if GenieACS does not know the device."""
        path = f"/devices/{_path_part(device_id)}/tags/{_path_part(tag)}"
        return self._call("DELETE", path, tolerate=(404,)).status_code != 404

    def connection_request(self, device_id: str) -> bool:
        """Ask the device to call the ACS now (it then applies the presets that match it).
        False when the device did not answer (504) or is unknown (404): it will apply them at
        its next periodic inform, so that is no failure of ours."""
        path = f"/devices/{_path_part(device_id)}/tasks"
        answer = self._call(
            "POST", path, params={"connection_request": "", "timeout": "3000"}, tolerate=(404, 504)
        )
        return answer.status_code == 200

    # --- the wire -----------------------------------------------------------------------------
    def _find(
        self,
        collection: str,
        query: Mapping[str, Any],
        *,
        projection: Collection[str],
        limit: int | None,
    ) -> list[dict[str, Any]]:
        params = {"query": json.dumps(query, separators=(",", ":"))}
        if projection:
            params["projection"] = ",".join(projection)
        if limit is not None:
            params["limit"] = str(limit)
            # A page is only a page in a stable order.
            params["sort"] = json.dumps({"_id": 1})
        answer = self._call("GET", f"/{collection}/", params=params)
        try:
            found = answer.json()
        except ValueError as exc:
            raise AcsTrouble(
                ReasonCode.NETWORK_TIMEOUT,
                f"GenieACS answered GET /{collection}/ with something that is not JSON.",
                transient=True,
            ) from exc
        if not isinstance(found, list):
            raise AcsTrouble(
                ReasonCode.NETWORK_TIMEOUT,
                f"GenieACS answered GET /{collection}/ with a {type(found).__name__}, not a list.",
                transient=True,
            )
        return found

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: str | None = None,
        tolerate: Collection[int] = (),
        secrets: Collection[str] = (),
    ) -> requests.Response:
        where = f"{method} {path}"
        try:
            answer = self.session.request(
                method,
                self.url + path,
                params=params,
                data=body.encode() if body is not None else None,
                headers={"Content-Type": "application/json"} if body is not None else None,
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise AcsTrouble(
                ReasonCode.NETWORK_TIMEOUT,
                f"GenieACS at {self.url} did not answer {where} within {self.timeout:g} s.",
                transient=True,
            ) from None
        except requests.ConnectionError:
            raise AcsTrouble(
                ReasonCode.NETWORK_TIMEOUT,
                f"GenieACS at {self.url} could not be reached ({where}).",
                transient=True,
            ) from None
        status = answer.status_code
        if 200 <= status < 300 or status in tolerate:
            return answer
        quoted = self._quote(answer.text, secrets=secrets)
        if status >= 500:
            raise AcsTrouble(
                ReasonCode.NETWORK_TIMEOUT,
                f"GenieACS answered {where} with {status}: {quoted}",
                transient=True,
            )
        if status in (401, 403):
            raise AcsTrouble(
                ReasonCode.CPE_REJECTED,
                f"GenieACS refused our credentials for {where} ({status}): check "
                "GENIEACS_USERNAME and GENIEACS_PASSWORD.",
                transient=False,
            )
        raise AcsTrouble(
            ReasonCode.CPE_REJECTED,
            f"GenieACS refused {where} ({status}): {quoted}",
            transient=False,
        )

    def _quote(self, text: str, *, secrets: Collection[str]) -> str:
        text = " ".join(text.split())
        for secret in (*self._secrets, *secrets):
            if secret:
                text = text.replace(secret, "***")
        if len(text) > _QUOTED_CHARS:
            text = text[:_QUOTED_CHARS] + "..."
        return text or "(no text)"
