"""The official TM Forum swagger files, read where the project keeps them: ``../shared/specs/``
beside the repository (CI has them), or the folder named by TMF_SPECS_DIR. They are never copied
into the repository."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FILES = {
    "TMF622": "TMF622-ProductOrder-v4.0.0.swagger.json",
    "TMF679": "TMF679-ProductOfferingQualification-v4.0.0.swagger.json",
    "TMF620": "TMF620-ProductCatalog-v4.0.0.swagger.json",
}


def specs_dir() -> Path:
    return Path(os.environ.get("TMF_SPECS_DIR", REPO.parent / "shared" / "specs"))


def path_of(name: str) -> Path:
    return specs_dir() / FILES[name]


@functools.cache
def load(name: str) -> dict[str, Any] | None:
    path = path_of(name)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_or_skip(name: str) -> dict[str, Any]:
    document = load(name)
    if document is None:
        pytest.skip(
            f"The official {name} specification is not at {path_of(name)}: these conformance "
            "tests need the TM Forum swagger files in ../shared/specs/ (or set TMF_SPECS_DIR)."
        )
    return document
