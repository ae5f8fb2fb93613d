"""The official TM Forum swagger files the conformance and fuzz tests check against, carried in
the repository (``specs/`` at its root, Apache-2.0, see specs/NOTICE); TMF_SPECS_DIR names
another folder holding the same files. A missing file fails the test that needs it: a clone
that cannot check conformance must not pass as one that did."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FILES = {
    "TMF622": "TMF622-ProductOrder-v4.0.0.swagger.json",
    "TMF679": "TMF679-ProductOfferingQualification-v4.0.0.swagger.json",
    "TMF620": "TMF620-ProductCatalog-v4.0.0.swagger.json",
    "TMF637": "TMF637-ProductInventory-v4.0.0.swagger.json",
    # v5 (OpenAPI 3, YAML): what the v4 API carries as extensions from it (milestones,
    # jeopardy alerts, orderRelationship) and the hub's v5 events are checked against it.
    "TMF622v5": "TMF622-ProductOrdering-v5.0.0.oas.yaml",
}


def specs_dir() -> Path:
    return Path(os.environ.get("TMF_SPECS_DIR") or REPO / "specs")


def path_of(name: str) -> Path:
    return specs_dir() / FILES[name]


def missing(name: str) -> str:
    return (
        f"The official {name} specification is not at {path_of(name)}: the repository "
        "carries it in specs/ (TMF_SPECS_DIR, when set, must name a folder holding it)."
    )


@functools.cache
def _read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return json.loads(text)


def load(name: str) -> dict[str, Any]:
    """The official ``name`` document; fails the calling test when its file is absent."""
    document = _read(path_of(name))
    if document is None:
        pytest.fail(missing(name))
    return document
