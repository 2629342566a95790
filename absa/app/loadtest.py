"""Bounded load test of the API on loopback: 1, 8 and 32 concurrent clients, each level for a fixed time.

    python -m absa.app.loadtest [--model DIR] [--seconds 20] [--clients 1 8 32]

Starts gunicorn with the production config on 127.0.0.1, sends real (text, aspect) pairs from a test set, and
writes throughput, p50/p95/p99 latency, error count and the server's memory before and after to
``absa/reports/loadtest.json``. Traffic goes to 127.0.0.1 only; every loop stops by count and by time.
"""

from __future__ import annotations

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

from absa.src.config import parse_arguments
from absa.src.data import PACKAGE_DIR, read_frame
from absa.src.files import write_json

HOST = "127.0.0.1"


@dataclass
class LoadTestArguments:
    """Which model to serve, what to send, and how hard."""

    model: str = field(default=str(PACKAGE_DIR / "models" / "default"), metadata={"help": "exported model folder"})
    test: str = field(default=str(PACKAGE_DIR / "data" / "test.csv"), metadata={"help": "rows to send"})
    clients: list[int] = field(default_factory=lambda: [1, 8, 32], metadata={"help": "concurrency levels"})
    seconds: float = field(default=20.0, metadata={"help": "duration of each concurrency level"})
    max_requests: int = field(default=20000, metadata={"help": "hard cap on requests per level"})
    threads: int = field(default=4, metadata={"help": "gunicorn threads of the single worker"})
    output: str = field(default=str(PACKAGE_DIR / "reports" / "loadtest.json"), metadata={"help": "JSON report"})

    def __post_init__(self) -> None:
        for name, bad in [
            ("clients", not self.clients or min(self.clients) < 1),
            ("seconds", self.seconds <= 0),
            ("max_requests", self.max_requests < 1),
            ("threads", self.threads < 1),
        ]:
            if bad:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(model: str, port: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, ABSA_MODEL_DIR=model, BIND=f"{HOST}:{port}", THREADS=str(threads), WEB_CONCURRENCY="1")
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


def run_level(url: str, bodies: list[bytes], clients: int, seconds: float, max_requests: int) -> dict:
    """``clients`` threads send requests back to back until ``seconds`` pass or ``max_requests`` are sent."""
    latencies, errors, lock = [], [0], threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + seconds

    def client() -> None:
        for i in counter:
            if time.perf_counter() >= deadline:
                return
            request = urllib.request.Request(
                url, data=bodies[i % len(bodies)], headers={"Content-Type": "application/json"}
            )
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    ok = response.status == 200 and b"predictions" in response.read()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                ok = False
            latency = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(latency)
                else:
                    errors[0] += 1

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


def main() -> None:
    args = parse_arguments(LoadTestArguments)
    frame = read_frame(args.test, require_labels=False).sample(frac=1.0, random_state=0)
    bodies = [json.dumps({"text": t, "aspects": [a]}).encode() for t, a in zip(frame["text"], frame["aspect"])]
    port = free_port()
    started = time.perf_counter()
    server = start_server(args.model, port, args.threads)
    startup_seconds = round(time.perf_counter() - started, 1)
    try:
        memory_before = server_rss_mb(server)
        levels = []
        for clients in args.clients:
            level = run_level(f"http://{HOST}:{port}/api/predict", bodies, clients, args.seconds, args.max_requests)
            print(json.dumps(level))
            levels.append(level)
        memory_after = server_rss_mb(server)
    finally:
        server.terminate()
        server.wait(timeout=60)
    report = {
        "model": Path(args.model).resolve().name,
        "cores": os.cpu_count(),
        "server": "gunicorn gthread, 1 worker",
        "startup_seconds": startup_seconds,
        "memory_before_mb": memory_before,
        "memory_after_mb": memory_after,
        "levels": levels,
        "arguments": asdict(args),
    }
    print(f"written to {write_json(args.output, report)}")


if __name__ == "__main__":
    main()
