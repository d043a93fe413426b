"""The package's layers: `core` (the memory library) and `storage` know nothing of MCP or of serving."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mcp_memory

PACKAGE = Path(mcp_memory.__file__).parent
FORBIDDEN = ("mcp", "mcp_types", "starlette", "uvicorn", "mcp_memory.serve", "mcp_memory.transfer")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN)


def test_core_and_storage_modules_import_neither_mcp_nor_the_serving_layer() -> None:
    modules = sorted([*(PACKAGE / "core").glob("*.py"), *(PACKAGE / "storage").glob("*.py")])
    assert len(modules) > 10
    wrong = {f"{m.parent.name}/{m.name}": sorted(filter(_forbidden, _imports(m))) for m in modules}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_loading_the_memory_library_loads_no_mcp_module() -> None:
    names = [f"mcp_memory.{m.parent.name}.{m.stem}" for m in sorted((PACKAGE / "core").glob("[!_]*.py"))]
    names += [f"mcp_memory.storage.{m.stem}" for m in sorted((PACKAGE / "storage").glob("[!_]*.py"))]
    program = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout.split()
    assert [name for name in loaded if _forbidden(name)] == []
