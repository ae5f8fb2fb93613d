"""The official specifications the conformance and fuzz tests check against travel with the
repository (specs/, with the Apache-2.0 licence and attribution), and a missing one fails a
test instead of skipping it (tests/tmf/specs.py)."""

from __future__ import annotations

import pytest

from tests.tmf import specs


def test_every_specification_the_tests_read_is_in_the_repository_with_its_licence(monkeypatch):
    # Given a clone with nothing beside it and no TMF_SPECS_DIR
    monkeypatch.delenv("TMF_SPECS_DIR", raising=False)

    # When the tests look for the official files
    folder = specs.specs_dir()

    # Then they find them in the repository, each readable, with the licence and attribution
    assert folder == specs.REPO / "specs"
    for name, file in specs.FILES.items():
        assert (folder / file).is_file(), name
        document = specs.load(name)
        # Swagger 2.0 for v4; v5's is OpenAPI 3
        assert document.get("swagger") == "2.0" or document["openapi"].startswith("3.")
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    assert all(file in notice for file in specs.FILES.values())


def test_a_missing_specification_fails_the_test_that_needs_it(monkeypatch, tmp_path):
    # Given TMF_SPECS_DIR naming a folder without the swagger files
    monkeypatch.setenv("TMF_SPECS_DIR", str(tmp_path))

    # When a test asks for one, then that test fails (it is not skipped) and says where to look
    with pytest.raises(pytest.fail.Exception, match=r"TMF622.*specs/"):
        specs.load("TMF622")
