"""The import rules between the layers: shared/ imports no blueprint, and the blueprints (one per
audience) import shared/ but never each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: blueprint -> the modules that make it up (a package prefix or a module)
BLUEPRINTS = {
    "facilitator": ("facilitator.views", "facilitator.forms"),
    "organiser": ("facilitator.organiser",),
    "editor": ("facilitator.editor",),
    "participant": ("participant.views",),
    "public": ("participant.public",),
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def _owner(module: str) -> str | None:
    for name, prefixes in BLUEPRINTS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


@pytest.mark.parametrize("path", _files("shared"), ids=lambda p: str(p.relative_to(ROOT)))
def test_shared_imports_no_blueprint(path):
    bad = {m for m in _imports(path) if m.split(".")[0] in ("facilitator", "participant")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("facilitator", "participant"), ids=lambda p: str(p.relative_to(ROOT)))
def test_blueprints_never_import_each_other(path):
    mine = _owner(_module(path))
    if mine is None:  # a package's __init__: it names its blueprints and imports none
        assert not {m for m in _imports(path) if _owner(m)}, f"{path.relative_to(ROOT)} imports a blueprint"
        return
    others = {m for m in _imports(path) if _owner(m) not in (None, mine)}
    assert not others, f"{path.relative_to(ROOT)} ({mine}) imports {sorted(others)}"


def test_every_blueprint_is_registered_by_name():
    from shared import app

    assert {name.split(":")[0] for name in app.BLUEPRINTS} == {
        "facilitator.views", "facilitator.editor", "facilitator.organiser", "participant.views",
        "participant.public", "shared.api"}
