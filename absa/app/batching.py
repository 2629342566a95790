"""Micro-batching: the (text, aspect) pairs of concurrent requests share one forward pass.

A request's pairs go into a queue; one thread, the only one that runs the model, takes what has arrived, waits at
most ``max_wait_ms`` for more (up to ``max_pairs``), predicts them together and hands each request its rows back.
While the model is busy the next requests gather, so under load batches grow by themselves; one client alone waits
at most ``max_wait_ms`` more. Passes never compete for the cores, and never hop between threads (on a 2-core CPU,
passes led by whichever request thread came first ran at half the throughput of one model thread).

Backpressure: past ``max_queued_pairs`` waiting pairs a request is refused at once (``Overloaded``: the app answers
429 with Retry-After) instead of queueing behind work it cannot overtake; a request not answered within
``timeout_s`` is abandoned (``TimeoutError``: 503) and its pairs are skipped if their pass has not started.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

PredictProba = Callable[[Sequence[str], Sequence[str]], np.ndarray]


class Overloaded(RuntimeError):
    """More pairs are waiting than the server takes on; the request should be retried later."""


@dataclass
class _Job:
    texts: list[str]
    aspects: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    result: np.ndarray | None = None
    error: BaseException | None = None
    abandoned: bool = False


class MicroBatcher:
    """``batcher(texts, aspects)`` returns what ``predict_proba(texts, aspects)`` would, computed together with the
    pairs of the requests that arrived at the same time. An error in one request's pairs (an aspect too long for
    the model) is raised in that request only."""

    def __init__(
        self,
        predict_proba: PredictProba,
        max_wait_ms: float = 2.0,
        max_pairs: int = 64,
        max_queued_pairs: int = 2048,
        timeout_s: float = 30.0,
    ) -> None:
        for name, value in [("max_pairs", max_pairs), ("max_queued_pairs", max_queued_pairs), ("timeout_s", timeout_s)]:
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be 0 or more, not {max_wait_ms!r}")
        self.predict_proba = predict_proba
        self.max_wait = max_wait_ms / 1000
        self.max_pairs = max_pairs
        self.max_queued_pairs = max_queued_pairs
        self.timeout_s = timeout_s
        # pairs per forward pass, the latest 1,024 (a server runs for weeks: the record must not grow with it)
        self.batch_sizes: deque[int] = deque(maxlen=1024)
        # since start-up, for /health: how many passes, how full, and how much of the time the model was busy
        self.passes = 0
        self.pairs_predicted = 0
        self.busy_seconds = 0.0
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._queued_pairs = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._serve, name="micro-batcher", daemon=True).start()

    def __call__(self, texts: Sequence[str], aspects: Sequence[str]) -> np.ndarray:
        job = _Job(list(texts), list(aspects))
        with self._lock:
            if self._queued_pairs + len(job.texts) > self.max_queued_pairs:
                raise Overloaded(f"{self._queued_pairs} pairs are waiting; at most {self.max_queued_pairs} are queued")
            self._queued_pairs += len(job.texts)
        self._queue.put(job)
        if not job.done.wait(self.timeout_s):
            job.abandoned = True
            raise TimeoutError(f"no answer within {self.timeout_s:g} s")
        if job.error is not None:
            raise job.error
        return job.result

    def _take(self) -> list[_Job]:
        """The next jobs to run together: the first waiting one, then whatever arrives within ``max_wait``."""
        jobs = [self._queue.get()]
        pairs = len(jobs[0].texts)
        deadline = time.monotonic() + self.max_wait
        while pairs < self.max_pairs:
            try:
                job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            jobs.append(job)
            pairs += len(job.texts)
        with self._lock:
            self._queued_pairs -= pairs
        return [job for job in jobs if not job.abandoned]

    def _serve(self) -> None:
        while True:
            self._run(self._take())

    def _run(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        started = time.perf_counter()
        try:
            probs = self.predict_proba([t for j in jobs for t in j.texts], [a for j in jobs for a in j.aspects])
        except Exception as err:
            if len(jobs) > 1:  # one request's bad pair must not fail the others: run them one by one
                for job in jobs:
                    self._run([job])
                return
            jobs[0].error = err
        else:
            self.batch_sizes.append(len(probs))
            self.passes += 1
            self.pairs_predicted += len(probs)
            self.busy_seconds += time.perf_counter() - started
            offsets = np.cumsum([0] + [len(j.texts) for j in jobs])
            for job, begin, end in zip(jobs, offsets[:-1], offsets[1:]):
                job.result = probs[begin:end]
        for job in jobs:
            job.done.set()
