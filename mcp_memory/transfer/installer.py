"""Set a host up to run this mcp-memory, or undo it: plan the change to its config file, then write it.

A plan holds the file's text before and after, so it can be shown as a diff (`--dry-run`) before
anything is written. Writing backs the old file up beside it first, and replaces the file in one
step; a plan that changes nothing writes nothing, not even a backup.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mcp_memory.core.errors import InvalidInput, MemoryServerError
from mcp_memory.core.validation import check_namespace
from mcp_memory.transfer.config_edit import ServersTable
from mcp_memory.transfer.hosts import HOSTS, Host, Scope

Outcome = Literal["added", "replaced", "unchanged", "removed", "absent"]
SetUp = Literal["yes", "other", "no", "unreadable"]


@dataclass(frozen=True)
class Plan:
    """What installing into, or uninstalling from, one host's config file would do."""

    host: Host
    scope: Scope
    path: Path
    name: str
    before: str | None  # None: the file does not exist
    after: str
    outcome: Outcome

    @property
    def changes(self) -> bool:
        return self.outcome in ("added", "replaced", "removed")

    def diff(self) -> str:
        """The change as a unified diff, as `--dry-run` shows it."""
        before = (self.before or "").splitlines(keepends=True)
        lines = difflib.unified_diff(
            before,
            self.after.splitlines(keepends=True),
            fromfile="/dev/null" if self.before is None else str(self.path),
            tofile=str(self.path),
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def installed_command() -> Path:
    """This installation's `mcp-memory` console script, by absolute path, so a host finds it outside the venv."""
    name = "mcp-memory.exe" if sys.platform == "win32" else "mcp-memory"
    for folder in (Path(sys.executable).absolute().parent, Path(sysconfig.get_path("scripts"))):
        if (folder / name).is_file():
            return folder / name
    found = shutil.which("mcp-memory")
    if found is None:
        raise MemoryServerError(
            "cannot find the mcp-memory command beside this Python nor on PATH; reinstall mcp-memory"
        )
    return Path(found).absolute()


def stdio_args(namespace: str | None, data_dir: Path | None) -> list[str]:
    """The arguments of `mcp-memory stdio` for a namespace and a data directory, when given."""
    args = ["stdio"]
    if namespace is not None:
        args += ["--namespace", check_namespace(namespace)]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir.expanduser().resolve())]  # the host starts elsewhere
    return args


def plan_install(host: Host, scope: Scope, cwd: Path, name: str, entry: dict[str, Any]) -> Plan:
    path, before = _read(host, scope, cwd)
    table = ServersTable(path, host.format, host.servers_key, before or "")
    present = table.entry(name)
    if present == entry:
        return Plan(host, scope, path, name, before, before or "", "unchanged")
    return Plan(host, scope, path, name, before, table.put(name, entry), "added" if present is None else "replaced")


def plan_uninstall(host: Host, scope: Scope, cwd: Path, name: str) -> Plan:
    path, before = _read(host, scope, cwd)
    table = ServersTable(path, host.format, host.servers_key, before or "")
    if before is None or table.entry(name) is None:
        return Plan(host, scope, path, name, before, before or "", "absent")
    return Plan(host, scope, path, name, before, table.drop(name), "removed")


def apply(plan: Plan) -> Path | None:
    """Write the plan; returns the backup of the old file (None when there was no file or no change)."""
    if not plan.changes:
        return None
    target = plan.path.resolve() if plan.path.is_symlink() else plan.path  # keep a dotfiles link a link
    if plan.before is None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8", newline="") as file:
            file.write(plan.after)
        return None
    backup = _free_backup_name(target)
    shutil.copy2(target, backup)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(plan.after)
        shutil.copymode(target, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return backup


@dataclass(frozen=True)
class Status:
    """One host's config file in one scope, and whether its entry runs this mcp-memory."""

    host: str
    scope: Scope
    config: Path
    found: bool
    set_up: SetUp  # yes: runs this mcp-memory; other: an entry of that name runs something else
    docs: str

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "scope": self.scope.value, "config": str(self.config)}


def statuses(cwd: Path, name: str, command: Path) -> list[Status]:
    """Every host's user config, and its project config in `cwd` where it reads one."""
    return [
        _status(host, scope, cwd, name, command)
        for host in HOSTS.values()
        for scope in ((Scope.user, Scope.project) if host.project_config else (Scope.user,))
    ]


def _status(host: Host, scope: Scope, cwd: Path, name: str, command: Path) -> Status:
    path = host.config_path(scope, cwd)
    try:
        _, before = _read(host, scope, cwd)
        entry = ServersTable(path, host.format, host.servers_key, before or "").entry(name)
    except InvalidInput:
        return Status(host.name, scope, path, True, "unreadable", host.doc)
    if entry is None:
        return Status(host.name, scope, path, before is not None, "no", host.doc)
    runs_ours = isinstance(entry, dict) and entry.get("command") == str(command)
    return Status(host.name, scope, path, True, "yes" if runs_ours else "other", host.doc)


def _read(host: Host, scope: Scope, cwd: Path) -> tuple[Path, str | None]:
    path = host.config_path(scope, cwd)
    if not path.exists():
        return path, None
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file; move it away and run again")
    try:
        with path.open(encoding="utf-8", newline="") as file:  # newline="": keep its line endings
            return path, file.read()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"cannot read {path}: it is not UTF-8 text. It was left as it was") from exc


def _free_backup_name(path: Path) -> Path:
    backup = path.with_name(path.name + ".bak")
    number = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak.{number}")
        number += 1
    return backup
