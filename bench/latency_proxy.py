"""A loopback TCP proxy that adds a fixed one-way delay, to emulate a distant registry.

Every chunk read on one side is written to the other side ``delay`` seconds later, in
order, in both directions, so each request/response exchange costs ``2 * delay`` more
(``--delay 0.02`` gives +40 ms round trips). Bandwidth is not limited. By default the
TCP handshake to the proxy is not delayed (it completes on loopback), which favours
clients that open many connections. With ``--handshake`` a new connection costs its
handshake round trip too, as on a real network (``tc netem`` delays the SYN and SYN-ACK):
the proxy holds what the client sends until ``3 * delay`` after the accept, when it would
have arrived had the client waited for the handshake first.

Run it as a process of its own, so its event loop competes with nothing in the
benchmark's own process::

    python bench/latency_proxy.py --delay 0.02 127.0.0.1:5000 127.0.0.1:5001

It prints one ``LISTEN <target> <port>`` line per target once every listener is up,
then serves until it is terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

CHUNK = 64 * 1024


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    not_before: float = 0.0,
) -> None:
    """Copy reader to writer, delivering each chunk ``delay`` after it arrived, and none
    before the loop time ``not_before``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if chunk is None:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while chunk := await reader.read(CHUNK):
            queue.put_nowait((max(loop.time() + delay, not_before), chunk))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((max(loop.time() + delay, not_before), None))
    with contextlib.suppress(ConnectionError, OSError):
        await delivering


async def _handle(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    host: str,
    port: int,
    delay: float,
    handshake: bool,
) -> None:
    # The client's first bytes would have left after the handshake's round trip.
    first_bytes_due = asyncio.get_running_loop().time() + 3 * delay if handshake else 0.0
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    try:
        await asyncio.gather(
            _pump(client_reader, upstream_writer, delay, first_bytes_due),
            _pump(upstream_reader, client_writer, delay),
        )
    finally:
        for writer in (client_writer, upstream_writer):
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def serve(targets: list[str], delay: float, handshake: bool = False) -> None:
    servers = []
    # asyncio holds tasks weakly: a connection whose transport has stopped reading would
    # otherwise be garbage-collected while pending (and logged as destroyed).
    connections: set[asyncio.Task[None]] = set()
    for target in targets:
        host, _, port = target.rpartition(":")

        async def handle(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            host: str = host,
            port: int = int(port),
        ) -> None:
            task = asyncio.current_task()
            if task is not None:
                connections.add(task)
                task.add_done_callback(connections.discard)
            # Cancelled only at shutdown; swallowing it keeps Python 3.11's
            # StreamReaderProtocol from logging a spurious traceback.
            with contextlib.suppress(asyncio.CancelledError):
                await _handle(reader, writer, host, port, delay, handshake)

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        servers.append(server)
        listen_port = server.sockets[0].getsockname()[1]
        print(f"LISTEN {target} {listen_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    for task in list(connections):
        task.cancel()
    await asyncio.gather(*connections, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.02, help="one-way delay, seconds")
    parser.add_argument(
        "--handshake",
        action="store_true",
        help="charge every new connection its TCP handshake round trip",
    )
    parser.add_argument("targets", nargs="+", metavar="HOST:PORT")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.targets, args.delay, args.handshake))


if __name__ == "__main__":
    main()
