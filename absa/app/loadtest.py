"""Bounded load test of the API on loopback: 1, 8 and 32 concurrent clients, with and without micro-batching,
measured against the model's own offline ceiling.

    python -m absa.app.loadtest [--model DIR] [--seconds 20] [--clients 1 8 32]

The request mix: one request per test sentence, with all of that sentence's aspects (as users send them). First the
ceiling: the same requests predicted offline in one call (packed rows, as in the server's passes), with no server
(``ceiling_rps``). Then, for each mode, gunicorn with the production config on 127.0.0.1 (micro-batched with
``--threads`` threads, the unbatched baseline with ``--baseline_threads``), each concurrency level for a fixed time.
Written to ``absa/reports/loadtest.json``: per level ``clients``, ``micro_batching``, ``throughput_rps``, p50/p95/p99
latency, ``errors`` (any answer but 200), and the server's memory. Traffic goes to 127.0.0.1 only; every loop stops
by count and by time. The clients run on the same cores as the server, so the server's share of them is smaller than
in production.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import psutil
import torch

from absa.src.config import parse_arguments
from absa.src.data import PACKAGE_DIR, read_frame
from absa.src.files import write_json
from absa.src.predict import Predictor

HOST = "127.0.0.1"
HEADERS = {"Content-Type": "application/json"}


@dataclass
class LoadTestArguments:
    """Which model to serve, what to send, and how hard."""

    model: str = field(default=str(PACKAGE_DIR / "models" / "default"), metadata={"help": "exported model folder"})
    test: str = field(default=str(PACKAGE_DIR / "data" / "test.csv"), metadata={"help": "rows to send"})
    clients: list[int] = field(default_factory=lambda: [1, 8, 32], metadata={"help": "concurrency levels"})
    seconds: float = field(default=20.0, metadata={"help": "duration of each concurrency level"})
    max_requests: int = field(default=20000, metadata={"help": "hard cap on requests per level"})
    threads: int = field(default=32, metadata={"help": "gunicorn threads of the single worker, micro-batched"})
    baseline_threads: int = field(default=4, metadata={"help": "gunicorn threads without micro-batching"})
    batch_size: int = field(default=16, metadata={"help": "pairs per forward pass, in the server and the ceiling"})
    output: str = field(default=str(PACKAGE_DIR / "reports" / "loadtest.json"), metadata={"help": "JSON report"})

    def __post_init__(self) -> None:
        for name, bad in [
            ("clients", not self.clients or min(self.clients) < 1),
            ("seconds", self.seconds <= 0),
            ("max_requests", self.max_requests < 1),
            ("threads", self.threads < 1),
            ("baseline_threads", self.baseline_threads < 1),
            ("batch_size", self.batch_size < 1),
        ]:
            if bad:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(
    model: str, port: int, threads: int, micro_batching: bool = True, batch_size: int = 16
) -> subprocess.Popen:
    env = dict(
        os.environ,
        ABSA_MODEL_DIR=model,
        BIND=f"{HOST}:{port}",
        THREADS=str(threads),
        WEB_CONCURRENCY="1",
        MICRO_BATCHING="1" if micro_batching else "0",
        PREDICT_BATCH_SIZE=str(batch_size),
    )
    config = PACKAGE_DIR / "app" / "gunicorn.conf.py"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(config), "--access-logfile", "/dev/null", "absa.app:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2)
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("server did not become healthy within 300 s")


def server_rss_mb(server: subprocess.Popen) -> float:
    process = psutil.Process(server.pid)
    return round(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20, 1)


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=10) as response:
        return json.load(response)


def pass_statistics(before: dict, after: dict, seconds: float) -> dict:
    """What the micro-batcher did during one level, from the server's counters: the pairs a forward pass held on
    average and the share of the level's time the model was busy (near 1: the model, not the server, limits)."""
    passes = after["passes"] - before["passes"]
    pairs = after["pairs_predicted"] - before["pairs_predicted"]
    busy = after["model_busy_seconds"] - before["model_busy_seconds"]
    return {
        "pairs_per_pass": round(pairs / passes, 1) if passes else None,
        "model_busy": round(busy / seconds, 2),
    }


def run_level(port: int, bodies: list[bytes], clients: int, seconds: float, max_requests: int) -> dict:
    """``clients`` threads send requests back to back to ``/api/predict`` until ``seconds`` pass or
    ``max_requests`` are sent; any answer but a 200 with predictions is an error."""
    path = "/api/predict"
    latencies, errors, lock = [], [0], threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + seconds

    def client() -> None:
        # one kept-alive connection per client, as a load balancer or an SDK keeps one: a new TCP connection per
        # request would spend the cores the server and the clients share on handshakes
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        for i in counter:
            if time.perf_counter() >= deadline:
                break
            start = time.perf_counter()
            try:
                connection.request("POST", path, body=bodies[i % len(bodies)], headers=HEADERS)
                response = connection.getresponse()
                ok = response.status == 200 and b"predictions" in response.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                ok = False
                connection.close()  # reconnects on the next request
            latency = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(latency)
                else:
                    errors[0] += 1
        connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "errors": errors[0],
        "throughput_rps": round(len(latencies) / elapsed, 2),
        **{f"p{q}_ms": round(float(np.percentile(ms, q)), 1) if len(ms) else None for q in (50, 95, 99)},
    }


def request_mix(test: str) -> list[dict]:
    """One request per sentence, with all of its aspects, in a fixed shuffled order."""
    frame = read_frame(test, require_labels=False)
    grouped = frame.groupby("text", sort=False)["aspect"].apply(list)
    items = [{"text": text, "aspects": aspects} for text, aspects in grouped.items()]
    order = np.random.default_rng(0).permutation(len(items))
    return [items[i] for i in order]


def offline_ceiling(model: str, items: list[dict], seconds: float, batch_size: int) -> dict:
    """Requests per second of the model itself on this mix, all of it predicted in one call (the whole mix packed
    longest first, forward passes of ``batch_size`` pairs, as the server's; no server, no HTTP): as many passes over
    the mix as fit in ``seconds`` (at least one)."""
    predictor = Predictor(model, batch_size=batch_size)
    texts = [item["text"] for item in items for _ in item["aspects"]]
    aspects = [aspect for item in items for aspect in item["aspects"]]
    predictor.predict_proba(texts[:64], aspects[:64])  # warm-up
    passes, started = 0, time.perf_counter()
    while passes == 0 or time.perf_counter() - started < seconds:
        predictor.predict_proba(texts, aspects)
        passes += 1
    elapsed = time.perf_counter() - started
    return {
        "ceiling_rps": round(passes * len(items) / elapsed, 2),
        "ceiling_pairs_per_s": round(passes * len(texts) / elapsed, 2),
        "precision": predictor.precision,
        "packing": predictor.packing,
    }


def serve_levels(args: LoadTestArguments, bodies: list[bytes], micro_batching: bool) -> dict:
    """Start a server in one mode, run every concurrency level against it, stop it."""
    port = free_port()
    threads = args.threads if micro_batching else args.baseline_threads
    started = time.perf_counter()
    server = start_server(args.model, port, threads, micro_batching, args.batch_size)
    startup_seconds = round(time.perf_counter() - started, 1)
    try:
        memory_before = server_rss_mb(server)
        levels = []
        for clients in args.clients:
            before = health(port)
            level = run_level(port, bodies, clients, args.seconds, args.max_requests)
            level = {"clients": clients, "micro_batching": micro_batching, "threads": threads, **level}
            if micro_batching:
                level.update(pass_statistics(before, health(port), level["seconds"]))
            print(json.dumps(level))
            levels.append(level)
        memory_after = server_rss_mb(server)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "startup_seconds": startup_seconds,
        "memory_before_mb": memory_before,
        "memory_after_mb": memory_after,
        "levels": levels,
    }


def main() -> None:
    args = parse_arguments(LoadTestArguments)
    items = request_mix(args.test)
    bodies = [json.dumps(item).encode() for item in items]
    ceiling = offline_ceiling(args.model, items, args.seconds, args.batch_size)
    print(json.dumps(ceiling))
    modes = {mode: serve_levels(args, bodies, mode) for mode in (False, True)}
    report = {
        "model": Path(args.model).resolve().name,
        "cores": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "server": "gunicorn gthread, 1 worker",
        "pairs_per_request": round(sum(len(item["aspects"]) for item in items) / len(items), 2),
        **ceiling,
        "batch_size": args.batch_size,
        "startup_seconds": modes[True]["startup_seconds"],
        "memory_before_mb": modes[True]["memory_before_mb"],
        "memory_after_mb": modes[True]["memory_after_mb"],
        "levels": modes[False]["levels"] + modes[True]["levels"],
        "arguments": asdict(args),
    }
    print(f"written to {write_json(args.output, report)}")


if __name__ == "__main__":
    main()
