"""An e-mail backend for tests with a real worker: every message sent is one file in
``TEST_MAIL_DIR`` (so a test counts what really went out, duplicates included). While the file
``TEST_MAIL_HOLD`` exists, a message to an address listed in it is held: the backend writes
``<address>.holding`` and waits, so a test can kill the worker in the middle of the send."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class FolderEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        folder = Path(os.environ["TEST_MAIL_DIR"])
        hold = Path(os.environ.get("TEST_MAIL_HOLD", folder / "hold"))
        for message in email_messages:
            for address in message.to:
                while hold.exists() and address in hold.read_text().split():
                    (folder / f"{address}.holding").touch()
                    time.sleep(0.2)
            name = folder / f"{uuid.uuid4().hex}.eml"
            partial = name.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes())
            partial.rename(name)
        return len(email_messages)


def sent_to(folder: Path) -> Counter[str]:
    """How many messages went to each address."""
    counts: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                counts[line.removeprefix("To: ").strip()] += 1
                break
    return counts
