"""mcp-memory: a local-first memory server for AI assistants, spoken over MCP."""

__version__ = "0.1.0"
