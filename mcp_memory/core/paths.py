"""Where a data directory is by default. Light on imports: the stdio bridge uses this module."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("mcp-memory", appauthor=False))


def default_model_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("mcp-memory", appauthor=False)) / "models"


def env_data_dir() -> Path:
    """The data directory from `MCP_MEMORY_DATA_DIR`, else the user data directory."""
    configured = os.environ.get("MCP_MEMORY_DATA_DIR")
    return Path(configured).expanduser() if configured else default_data_dir()
