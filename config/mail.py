"""The e-mail backend of `make run`: every message in a file of its own, one line on the console.

Django's console backend prints each message whole (an invitation is 25 lines), so ten of them
push everything else off the screen; its file backend puts every message of one connection in
one file and says nothing. Here each message becomes ``<EMAIL_FILE_PATH>/<time>-<n>.eml``
(open it with any mail reader, or read it as text) and the log gets one line naming the
recipients, the subject and that file.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("mail")
_sequence = itertools.count(1)


class FileWithSummaryBackend(BaseEmailBackend):
    """Writes each message to its own .eml file and logs one line per message."""

    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured = file_path or getattr(settings, "EMAIL_FILE_PATH", None)
        self.directory = Path(str(configured or Path(settings.VAR_DIR) / "mail"))

    def _path_for(self) -> Path:
        # Time first so the folder lists in sending order; pid and a counter keep the names of
        # two worker processes (or two messages in one second) apart.
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self.directory / f"{stamp}-{os.getpid()}-{next(_sequence)}.eml"

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            path = self._path_for()
            try:
                path.write_bytes(message.message().as_bytes())
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            subject = " ".join(str(message.subject).split())
            logger.info(
                "e-mail to %s: %r saved to %s", ", ".join(message.recipients()), subject, path
            )
            sent += 1
        return sent
