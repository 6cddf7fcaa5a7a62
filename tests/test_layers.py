"""The layout holds: each stage imports only from its own layer or the ones below, and `assess` never
imports `flows` or prefect. Imports inside functions count too (they are found by walking the whole AST).

Layers, bottom to top (README "Development"):
    core < ops < inbox < read < validate < store < clean < estimate < partners < report < demo < flows
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = (
    "core",
    "ops",
    "inbox",
    "read",
    "validate",
    "store",
    "clean",
    "estimate",
    "partners",
    "report",
    "demo",
)


def _layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] == "flows":
        return len(LAYERS)
    if parts[0] == "assess" and len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, wherever it is."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _files() -> list[Path]:
    return sorted([*(ROOT / "assess").rglob("*.py"), *(ROOT / "flows").rglob("*.py")])


def _upward_imports(path: Path) -> list[str]:
    own = _layer_of(_module_name(path))
    if own is None:
        return []
    return [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for line, target in _imports(path)
        if (other := _layer_of(target)) is not None and other > own
    ]


def test_every_stage_imports_only_downwards():
    assert [o for p in _files() for o in _upward_imports(p)] == []


def test_assess_never_imports_flows_or_prefect():
    offenders = [
        f"{p.relative_to(ROOT)}:{line} imports {t}"
        for p in (ROOT / "assess").rglob("*.py")
        for line, t in _imports(p)
        if t.split(".")[0] in ("flows", "prefect")
    ]
    assert offenders == []


def test_every_module_of_assess_lives_in_a_stage():
    loose = [p.name for p in (ROOT / "assess").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    assert {
        p.name for p in (ROOT / "assess").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    } == set(LAYERS)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ..report.build import build_reports", "assess.report.build"),
        ("def f():\n    from ..store.load import sql", "assess.store.load"),
        ("import assess.report.build", "assess.report.build"),
    ],
)
def test_the_checker_sees_relative_and_function_level_imports(tmp_path, monkeypatch, source, expected):
    fake = ROOT / "assess" / "core" / "_layer_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert any(t.startswith(expected) for _, t in _imports(fake))
    assert _upward_imports(fake)  # core importing any stage above it is flagged
