"""Export and import from the web pages: the same JSON Lines format, readers and drivers as `mcp-memory
export` and `import`, reaching the service through the runtime a page or a batch at a time."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from mcp_memory.core.errors import InvalidInput
from mcp_memory.core.models import ExportPage, ImportResult, MemoryInput
from mcp_memory.core.principal import Caller
from mcp_memory.serve.runtime import MemoryRuntime
from mcp_memory.transfer.exporter import export_namespace
from mcp_memory.transfer.importer import ImportReport, import_file, open_source

MAX_UPLOAD = 200 * 1024 * 1024  # bytes of a file to import from a page
SPOOL = 8 * 1024 * 1024  # an export is kept in memory up to this size, then on disk
CHUNK = 256 * 1024


class RuntimeChannel:
    """The transfer drivers' `Channel`, over the runtime, as one caller in one namespace."""

    def __init__(self, runtime: MemoryRuntime, caller: Caller) -> None:
        self._runtime, self._caller = runtime, caller

    async def export_page(self, cursor: str | None, limit: int, *, vectors: bool, history: bool) -> ExportPage:
        return await self._runtime.export_page(self._caller, cursor, limit=limit, vectors=vectors, history=history)

    async def import_batch(
        self, memories: Sequence[MemoryInput], *, model: str | None, check_only: bool
    ) -> ImportResult:
        return await self._runtime.import_memories(self._caller, memories, model=model, check_only=check_only)


async def export_response(runtime: MemoryRuntime, caller: Caller, namespace: str) -> Response:
    """The namespace as a downloaded file, with each memory's history (vectors left out: a file to keep)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL, mode="w+", encoding="utf-8")  # noqa: SIM115 - streamed
    try:
        await export_namespace(RuntimeChannel(runtime, caller), spool, namespace, history=True)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    async def chunks() -> AsyncIterator[str]:
        try:
            while chunk := spool.read(CHUNK):
                yield chunk
        finally:
            spool.close()

    name = f"{namespace}-{datetime.now(UTC):%Y%m%d-%H%M}.jsonl"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return StreamingResponse(chunks(), media_type="application/x-ndjson", headers=headers)


async def import_upload(runtime: MemoryRuntime, caller: Caller, upload: object, *, skip_bad: bool) -> ImportReport:
    """Import an uploaded file (this server's export, or another tool's, as `mcp-memory import` reads them);
    its size was checked (`MAX_UPLOAD`) before it was read."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("choose a file to import")
    with tempfile.TemporaryDirectory(prefix="mcp-memory-upload-") as scratch:
        name = Path(upload.filename).name  # the name tells the format; no directories
        path = Path(scratch) / (name if name not in ("", ".", "..") else "upload")
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                out.write(chunk)
        try:
            return await import_file(RuntimeChannel(runtime, caller), open_source(path), skip_bad=skip_bad)
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}): save it as UTF-8"
            ) from exc
