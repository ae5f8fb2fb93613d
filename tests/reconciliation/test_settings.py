"""The reconciliation's settings: an interval or grace period that makes no sense stops the
process at start, saying which setting is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "env", [{"RECONCILIATION_INTERVAL_MINUTES": "0"}, {"RECONCILIATION_GRACE_MINUTES": "-5"}]
)
def test_a_nonsensical_interval_or_grace_period_refuses_to_start(tmp_path, env):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "RECONCILIATION_GRACE_MINUTES must be 0 or more" in result.stderr
