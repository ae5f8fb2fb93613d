"""The e-mail backend of `make run` (config/mail.py): a file per message, one line each."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

from django.core.mail import get_connection, send_mail

BACKEND = "config.mail.FileWithSummaryBackend"
ROOT = Path(__file__).resolve().parents[2]


def test_each_e_mail_is_a_file_and_one_line_on_the_console(tmp_path, caplog):
    # Given the backend `make run` uses, writing to a folder of its own
    connection = get_connection(BACKEND, file_path=str(tmp_path))
    body = "\n".join(f"line {n} of a long invitation" for n in range(25))
    # When ten invitations of 25 lines each are sent
    with caplog.at_level(logging.INFO, logger="mail"):
        for n in range(10):
            send_mail(
                f"Welcome, customer {n}",
                body,
                "orders@isp.example",
                [f"customer{n}@example.com"],
                connection=connection,
            )
    # Then each is a file of its own holding the whole message
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 10
    messages = [message_from_bytes(path.read_bytes()) for path in files]
    assert {m["To"] for m in messages} == {f"customer{n}@example.com" for n in range(10)}
    assert all("line 24 of a long invitation" in m.get_payload() for m in messages)
    # ... and the console gets one line per e-mail naming the recipient, subject and file
    lines = [r.getMessage() for r in caplog.records if r.name == "mail"]
    assert len(lines) == 10
    assert all("\n" not in line for line in lines)
    first = next(line for line in lines if "customer0@example.com" in line)
    assert "Welcome, customer 0" in first
    assert any(str(path) in first for path in files)


def test_make_run_sends_e_mails_to_files_unless_a_server_is_configured(tmp_path):
    # Given the local settings with no EMAIL_URL, then e-mails go to var/mail/ files
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "EMAIL_FILE_PATH"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    backend, path = result.stdout.split()
    assert backend == BACKEND
    assert path == str(tmp_path / "mail")
