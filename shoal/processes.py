"""The processes `shoal run` keeps alive beside its web server: digest workers.

Why separate processes: threads in one interpreter share one core (the GIL), and ingest at
thousands of requests a second and digest at thousands of events a second cannot both fit on one
core (DESIGN.md §3). So `shoal run` is one command and one data directory, but the web server and
each digest worker are their own processes. A worker that exits is restarted; a worker whose
parent died, even by kill -9, stops by itself, so a restarted server never finds stale workers.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger(__name__)

_RESTART_DELAYS = (0.5, 1, 2, 5, 10, 30)
# Digest workers yield the CPU to the web process: it answers SDKs, whose sends time out (Node's
# agent after 2 s, protocol.md §9), while a digest that falls behind only grows the spool, which
# is what the spool is for. Measured on 2 cores, 20,000 corpus events: bench/RESULTS.md.
WORKER_NICENESS = 10
_STOP_TIMEOUT = 10.0


class WorkerSupervisor:
    def __init__(self, count: int) -> None:
        self._count = count
        self._stopping = threading.Event()
        self._children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self._count):
            thread = threading.Thread(
                target=self._keep_alive, args=(index,), name=f"supervise-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._lock:  # after this, no supervisor thread starts another child
            self._stopping.set()
            children = list(self._children)
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
        for thread in self._threads:
            thread.join()

    def pids(self) -> list[int]:
        with self._lock:
            return [child.pid for child in self._children]

    def _keep_alive(self, index: int) -> None:
        failures = 0
        while (child := self._spawn()) is not None:
            code = child.wait()
            with self._lock:
                self._children.remove(child)
            if self._stopping.is_set():
                return
            delay = _RESTART_DELAYS[min(failures, len(_RESTART_DELAYS) - 1)]
            log.error("digest worker %d exited with code %s; restarting in %.1fs", index, code, delay)
            failures += 1
            self._stopping.wait(delay)

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        command = [
            sys.executable,
            "-m",
            "shoal",
            "worker",
            "--parent-pid",
            str(os.getpid()),
            "--nice",
            str(WORKER_NICENESS),
        ]
        with self._lock:
            if self._stopping.is_set():
                return None
            child = subprocess.Popen(command)
            self._children.append(child)
        return child


def watch_parent(parent_pid: int, stop: threading.Event) -> None:
    """Set `stop` once the process that started us is gone (it died, even by kill -9)."""
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            log.warning("parent process %d is gone; stopping", parent_pid)
            stop.set()
