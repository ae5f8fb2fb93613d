"""An e-mail backend for tests with a real worker: every message sent is one file in
``TEST_MAIL_DIR`` (so a test counts what really went out, duplicates included). While the file
``TEST_MAIL_HOLD`` exists, a message to an address listed in it is held: the backend writes
``<address>.holding`` and waits, so a test can kill the worker in the middle of the send."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail.message import EmailMessage

from config.mail import FileWithSummaryBackend


class FolderEmailBackend(FileWithSummaryBackend):
    """``make run``'s backend (one .eml file per message) writing to TEST_MAIL_DIR, holding a
    message to an address listed in TEST_MAIL_HOLD while that file exists."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, file_path=os.environ["TEST_MAIL_DIR"], **kwargs)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        hold = Path(os.environ.get("TEST_MAIL_HOLD", self.directory / "hold"))
        for message in email_messages:
            for address in message.to:
                while hold.exists() and address in hold.read_text().split():
                    (self.directory / f"{address}.holding").touch()
                    time.sleep(0.2)
        return super().send_messages(email_messages)


def sent_to(folder: Path) -> Counter[str]:
    """How many messages went to each address."""
    counts: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                counts[line.removeprefix("To: ").strip()] += 1
                break
    return counts
