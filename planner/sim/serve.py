"""Running the simulator as a real HTTP server (uvicorn) on a bound socket.

We bind the socket ourselves so that ``--port 0`` can print the real port
before serving. ``serve_in_thread`` is the test helper; ``serve_forever`` is
`sim serve`. Signals: our Server subclass stops cleanly on SIGINT/SIGTERM and,
unlike uvicorn's default, does not re-raise the signal afterwards (exit 0).
With an env file, the export lines appear there (temp file, then rename) only
once the server accepts connections, so a script can wait for the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import uvicorn

from planner.sim.core import Simulator


class _Server(uvicorn.Server):
    on_started: Callable[[], None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()


def write_env_file(path: Path, lines: list[str]) -> None:
    """Whole or absent: a reader never sees half a file. 0600: it holds the token."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, ("\n".join(lines) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server(sim: Simulator, access_log: bool) -> _Server:
    # date_header off: the app sends the Date of the simulator's clock, not uvicorn's wall clock
    config = uvicorn.Config(
        sim.app,
        log_config=None,
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=2,
        date_header=False,
    )
    return _Server(config)


def export_lines(sim: Simulator, base_url: str) -> list[str]:
    c = sim.credentials
    return [
        f"export HW_ENDPOINT={base_url}",
        f"export HW_REGION_NAME={sim.region}",
        f"export HW_PROJECT_ID={sim.project_id}",
        f"export HW_AUTH_TOKEN={c.token}",
        f"export HW_ACCESS_KEY={c.access_key}",
        f"export HW_SECRET_KEY={c.secret_key}",
    ]


@contextmanager
def serve_in_thread(sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``sim`` on a daemon thread; yields the base URL, stops on exit."""
    sock = bind(host, port)
    server = _server(sim, access_log=False)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve_forever(sim: Simulator, host: str, port: int, env_file: Path | None = None) -> int:
    """Bind, print the export lines (flushed), serve until SIGINT/SIGTERM; returns 0.

    ``env_file`` gets the same lines once the server is started, and is removed
    when it stops (a stale file would send a waiting script to a dead port).
    """
    sock = bind(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    lines = export_lines(sim, base)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    server = _server(sim, access_log=True)
    if env_file is not None:
        server.on_started = lambda: write_env_file(env_file, lines)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        if env_file is not None:
            with contextlib.suppress(FileNotFoundError):
                env_file.unlink()
    return 0
