"""``ioc-sim app``: serve the teaching app on localhost until interrupted.

solara serves the package :mod:`ioc_sim.app` and finds its ``Page``. Nothing
here imports the page, Mesa or the model at import time, so adding the command
to ``ioc-sim`` costs the other commands nothing.
"""

from __future__ import annotations

import os
import socket

from ioc_sim.errors import ConfigError
from ioc_sim.spec.files import whole_number

DEFAULT_PORT = 8765


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def serve(port: int = DEFAULT_PORT, host: str = "localhost") -> int:
    """Serve the app until interrupted; prints the address first.

    Args:
        port: TCP port; 0 picks a free one.
        host: Interface to listen on (localhost by default: a teacher's machine).

    Returns:
        Exit status 0.

    Raises:
        ConfigError: If solara is not installed or the port is taken.
    """
    # Read by solara's settings when it is first imported, so set before that.
    # No usage reports from a teacher's machine (and none get out of a closed network).
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    try:
        import solara  # noqa: F401
    except ImportError:
        raise ConfigError(
            "app",
            'the teaching app needs solara; install it with python -m pip install -e ".[app]"',
        ) from None
    if port == 0:
        port = free_port()
    elif _port_in_use(port):
        raise ConfigError(
            "--port", f"port {port} is in use; choose another, or --port 0 for a free one"
        )
    from solara.__main__ import run

    from ioc_sim.experiments.warmup import compile_kernels

    # Before the address is printed: the first page would otherwise wait for it in silence.
    compile_kernels()
    print(f"ioc-sim teaching app: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    run.main(
        [
            "ioc_sim.app",
            "--host",
            host,
            "--port",
            str(port),
            "--no-open",
            "--production",
            "--no-check-version",
            "--log-level",
            "warning",
        ],
        prog_name="ioc-sim app",
        standalone_mode=False,
    )
    return 0


def add_parser(subparsers) -> None:
    """Add ``app`` to ``ioc-sim``'s subcommands."""
    command = subparsers.add_parser(
        "app",
        help="start the teaching app (an interactive browser view of the dynamics)",
        description="Serve the teaching app on localhost and print its address. Open it in a "
        "browser; Ctrl-C stops it.",
    )
    command.add_argument(
        "--port",
        type=whole_number("port", 0, 65535),
        default=DEFAULT_PORT,
        help=f"port to serve on (default {DEFAULT_PORT}; 0 picks a free one)",
    )


def cmd_app(args) -> int:
    """Run ``ioc-sim app``."""
    return serve(port=args.port)
