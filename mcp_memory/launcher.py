"""The `mcp-memory` console script. `stdio` goes straight to the light bridge; the rest to the CLI."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["stdio"] and not {"-h", "--help"} & set(args):
        from mcp_memory.serve.bridge import main as bridge

        sys.exit(bridge(args[1:]))
    from mcp_memory.cli import main as cli

    cli()
