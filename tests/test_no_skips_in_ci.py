"""tests/plugins/no_skips_in_ci.py: in CI a skip fails the run; elsewhere it stays a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_needs_something_absent():
    pytest.skip("the thing is not installed here")
"""


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), ("", "skipped")])
def test_a_skip_fails_the_run_in_ci_only(pytester, monkeypatch, ci, outcome):
    # Given a test that skips itself, run with or without CI set
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makepyfile(test_skipping=SKIPPING)

    # When pytest runs it with the suite's plugin
    result = pytester.runpytest_subprocess(
        "-p", "tests.plugins.no_skips_in_ci", "-p", "no:django", "-p", "no:cacheprovider"
    )

    # Then in CI it is a failure naming the reason, elsewhere a skip
    result.assert_outcomes(**{outcome: 1})
    if outcome == "failed":
        result.stdout.fnmatch_lines(["*Skipped in CI*the thing is not installed here*"])
