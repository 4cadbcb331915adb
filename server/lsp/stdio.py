"""The client's messages read by the event loop itself, not through a thread pool.

pygls 2 reads standard input with `run_in_executor`: every header line and every body is a hop to a
worker thread and back, three per message, and each hop waits for the GIL on both sides. While a
model generates (llama-cpp-python's token loop takes the GIL between native calls) that adds
milliseconds to every `didChange` and `codeAction` (bench/event_loop.py). When standard input is a
pipe or a socket, as editors start language servers, the loop reads it directly through its
selector; anything else (a file, a terminal) keeps pygls's reader.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from threading import Event
from typing import BinaryIO

from pygls.io_ import StdoutWriter, run_async
from pygls.server import JsonRPCServer

log = logging.getLogger(__name__)


class PipeReader:
    """pygls's AsyncReader over an asyncio stream: `readline()`, `readexactly(n)`; b"" at the end."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


def readable_by_selector(stream: BinaryIO) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):  # no file descriptor (a test's BytesIO) or a closed one
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


async def pipe_reader(stream: BinaryIO) -> PipeReader:
    stream_reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream_reader), stream)
    return PipeReader(stream_reader)


def serve_stdio(server: JsonRPCServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """`server.start_io()`, with standard input read on the loop when it is a pipe or a socket."""
    stdin = stdin or sys.stdin.buffer
    if not readable_by_selector(stdin):
        log.info("standard input is not a pipe or socket: reading it through pygls's thread")
        server.start_io(stdin, stdout)
        return
    server._stop_event = stop = Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))

    async def serve() -> None:
        reader = await pipe_reader(stdin)
        await run_async(stop_event=stop, reader=reader, protocol=server.protocol, logger=log,
                        error_handler=server.report_server_error)

    try:
        asyncio.run(serve())
    except BrokenPipeError:
        log.error("the connection to the client is lost: shutting down")
    except (KeyboardInterrupt, SystemExit):  # `exit` from the client ends the loop with SystemExit
        pass
    finally:
        server.shutdown()
