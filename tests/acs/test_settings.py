"""The GenieACS settings block (config/settings/base.py): a data model the adapter has no
parameter paths for stops the process at start, not at the first router."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unknown_data_model_stops_the_process_at_start(tmp_path):
    refused = check(tmp_path, GENIEACS_DATA_MODEL="tr069")
    accepted = check(tmp_path, GENIEACS_DATA_MODEL="tr181")

    assert refused.returncode != 0
    assert 'GENIEACS_DATA_MODEL is "tr098" or "tr181", not "tr069"' in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
