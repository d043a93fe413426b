"""Watches a Python process for outbound network attempts: loaded by `site` when this directory is on PYTHONPATH.

Inert unless `MCP_MEMORY_TEST_OUTBOUND_LOG` names a file. Then an audit hook (PEP 578) appends one JSON
line to that file for every name lookup, connection, datagram, URL opened and process spawned, and
blocks each attempt to reach a host other than this one (it raises `PermissionError` before the
lookup or connection happens), so that a test which catches an attempt has sent nothing. At exit it
appends the process's telemetry-relevant state: Chroma's settings and Hugging Face's offline mode.

Audit hooks see only what goes through CPython (the socket module and the libraries built on it);
connections made from native code (Rust, C++) need a system call tracer such as strace. Nor do they
see every lookup: `connect`, `sendto` or `bind` given a host name resolve it inside CPython before
their event is raised, and a lookup that fails raises none (strace sees the name server queried).
Stdlib only, and light: it is loaded into every process of the server, the stdio bridge included.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

LOG_VARIABLE = "MCP_MEMORY_TEST_OUTBOUND_LOG"
LOCAL_FAMILIES = {socket.AF_UNIX, getattr(socket, "AF_NETLINK", socket.AF_UNIX)}  # a path, or the kernel
# The audit events by which CPython 3.11 announces a name lookup or a connection, and the index of the
# argument naming the peer (https://docs.python.org/3.11/library/audit_events.html).
ADDRESS_EVENTS = {"socket.connect": 1, "socket.sendto": 1, "socket.sendmsg": 1}  # (socket, address)
HOST_EVENTS = {
    "socket.getaddrinfo": 0,
    "socket.gethostbyname": 0,
    "socket.gethostbyaddr": 0,
    "http.client.connect": 1,
    "ftplib.connect": 1,
    "imaplib.open": 1,
    "nntplib.connect": 1,
    "poplib.connect": 1,
    "smtplib.connect": 1,
    "telnetlib.Telnet.open": 1,
}
URL_EVENTS = {"urllib.Request": 0, "webbrowser.open": 0}
SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn"}
LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_local_host(host: Any) -> bool:
    """A name or address that stays on this machine: loopback, the unspecified address, or no host at all."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%")[0].lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name to look up: DNS, the first step out
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or address.is_unspecified or (mapped is not None and mapped.is_loopback))


def _peer(event: str, args: tuple[Any, ...]) -> tuple[str, bool] | None:
    """(the peer the event names, whether it stays local), or None for an event that names none."""
    if event in ADDRESS_EVENTS:
        sock, address = args[0], args[ADDRESS_EVENTS[event]]
        family = getattr(sock, "family", None)
        if address is None:  # a datagram on a connected socket: its connect was recorded
            return None
        if family in LOCAL_FAMILIES or isinstance(address, str | bytes):
            return repr(address), True
        host = address[0] if isinstance(address, tuple) and address else address
        return repr(address), _is_local_host(host)
    if event in HOST_EVENTS:
        host = args[HOST_EVENTS[event]]
        return repr(host), _is_local_host(host)
    if event == "socket.getnameinfo":
        sockaddr = args[0]
        return repr(sockaddr), _is_local_host(sockaddr[0] if sockaddr else None)
    if event in URL_EVENTS:
        url = str(args[URL_EVENTS[event]])
        return url, urlsplit(url).scheme in ("file", "data") or (
            event != "webbrowser.open" and _is_local_host(urlsplit(url).hostname)
        )
    return None


def _append(fd: int, record: dict[str, Any]) -> None:
    # One write per line on an O_APPEND descriptor: lines from threads and processes never interleave.
    os.write(fd, (json.dumps({"pid": os.getpid(), **record}, default=repr) + "\n").encode())


def _hook(fd: int) -> Any:
    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in SPAWN_EVENTS:
            _append(fd, {"event": event, "spawn": repr(args[:2])})
            return
        try:
            found = _peer(event, args)
        except Exception as exc:  # a watcher that cannot read an event must say so, not let it pass
            found = (f"unreadable {args!r}: {exc!r}", False)
        if found is None:
            return
        peer, local = found
        _append(fd, {"event": event, "peer": peer, "outbound": not local})
        if not local:
            raise PermissionError(f"outbound network access blocked by the test's watcher: {event} {peer}")

    return hook


def _state() -> dict[str, Any]:
    """What this process ended up configured with, as the libraries themselves read it."""
    state: dict[str, Any] = {
        "environ": {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")},
        "modules": sorted(m for m in ("chromadb", "huggingface_hub", "sentence_transformers") if m in sys.modules),
    }
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:  # fixed when the module was imported, whatever the environment says later
        state["hub_offline"] = getattr(hub, "HF_HUB_OFFLINE", None)
    shared = sys.modules.get("chromadb.api.shared_system_client")
    if shared is not None:
        systems = shared.SharedSystemClient._identifier_to_system.values()
        state["chroma"] = [
            {
                "anonymized_telemetry": system.settings.anonymized_telemetry,
                "otel_collection_endpoint": system.settings.chroma_otel_collection_endpoint,
                "otel_granularity": system.settings.chroma_otel_granularity,
                "components": sorted(
                    f"{type(c).__module__}.{type(c).__qualname__}" for c in system._instances.values()
                ),
            }
            for system in systems
        ]
    return state


def _at_exit(fd: int) -> None:
    try:
        state = _state()
    except Exception as exc:
        state = {"error": repr(exc)}
    _append(fd, {"event": "exit", "state": state})


def _install(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    _append(fd, {"event": "watch", "argv": sys.orig_argv})
    atexit.register(_at_exit, fd)
    sys.addaudithook(_hook(fd))


if os.environ.get(LOG_VARIABLE):
    _install(os.environ[LOG_VARIABLE])
