"""The embedded default's broker: kombu's filesystem transport, with atomic publishing.

kombu's filesystem channel creates the message file and then writes into it, so a worker
polling the folder can pick up an empty file between the two; the worker then dies with a
JSONDecodeError and the message is gone (kombu issue #1551, open). Here a message is written
under a name the reader ignores and renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class AtomicFilesystemChannel(filesystem.Channel):
    # Same signature as filesystem.Channel._put (wider than the abstract base declares).
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # The reader only takes files named "<stamp>.<queue>.msg": ".part" is invisible to it.
        partial = final + ".part"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel
