"""What every helper process this library spawns does first (embedding workers, the store's optimiser)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading

__all__ = ["detach"]


def detach(nice: int) -> None:
    """Lower this process's priority by ``nice``, lift the CPU-time limit a parent request set, and exit
    when the parent does."""
    if nice > 0:
        try:
            os.nice(nice)
        except OSError:  # a sandbox may forbid it
            pass
    try:
        import resource  # noqa: PLC0415 - POSIX only

        # Odoo's prefork workers set RLIMIT_CPU per request (limit_time_cpu); a child inherits it,
        # and a child that serves many builds, or one long build, would be killed by it.
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass
    threading.Thread(target=_exit_with_parent, name="odoo-search-parent-watch", daemon=True).start()


def _exit_with_parent() -> None:
    """A child would otherwise wait or work on for a parent that is gone: leave then. The parent's end
    of the spawn pipe closes when it dies and when it replaces itself with ``exec`` (as Odoo's threaded
    server does to restart), which a check of ``getppid()`` would miss."""
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - a spawned child always has one
        return
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(0)
