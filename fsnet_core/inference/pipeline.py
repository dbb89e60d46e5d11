"""A pipeline of threads linked by short queues: each stage of a run works while the others do.

Decoding (FFmpeg), flow (OpenCV), the network (PyTorch) and PNG/H.264
encoding all release the GIL, so running them in threads overlaps them.
:func:`in_background` runs an iterator ahead of its consumer; :class:`Worker`
consumes items behind the producer. Errors in either re-raise in the thread
that reads or submits, and both stop their thread when closed, also on Ctrl-C.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class _Stop(Exception):
    """Raised inside a stage when the consumer has gone away."""


_END = object()


def in_background(items: Iterable[Any], maxsize: int = 4, name: str = "stage") -> Iterator[Any]:
    """Iterate ``items`` in a thread, ``maxsize`` items ahead; errors re-raise in the consumer.

    Closing the returned generator (or leaving it by an exception) stops and
    joins the thread.
    """
    box: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def work() -> None:
        try:
            for item in items:
                put(item)
            put(_END)
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            try:
                put(exc)
            except _Stop:
                pass
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # stop an upstream stage now, in this thread
                close()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class Worker:
    """A thread that calls ``fn`` on each submitted item in order (a bounded queue in front)."""

    def __init__(self, fn: Callable[[Any], None], maxsize: int = 4, name: str = "writer") -> None:
        self._fn = fn
        self._box: queue.Queue = queue.Queue(maxsize)
        self._error: BaseException | None = None
        self.done = 0
        """How many items ``fn`` has finished."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._box.get()) is not _END:
            if self._error is None:
                try:
                    self._fn(item)
                    self.done += 1
                except BaseException as exc:  # noqa: BLE001 - re-raised by submit/close
                    self._error = exc

    def submit(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        self._box.put(item)

    def close(self) -> None:
        """Wait for every submitted item; re-raise the first error."""
        self._box.put(_END)
        self._thread.join()
        if self._error is not None:
            raise self._error


__all__ = ["Worker", "in_background"]
