import threading
import time

import numpy as np
import pytest

from absa.app.batching import MicroBatcher, Overloaded


class SlowModel:
    """predict_proba stand-in: row i's probabilities encode len(text) and len(aspect); each pass takes 50 ms."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.calls: list[int] = []
        self.seconds = seconds
        self.release = threading.Event()
        self.release.set()

    def __call__(self, texts, aspects):
        self.release.wait()
        if any(aspect == "too long" for aspect in aspects):
            raise ValueError("an aspect too long")
        self.calls.append(len(texts))
        time.sleep(self.seconds)
        return np.array([[len(t), len(a), 0.0] for t, a in zip(texts, aspects)], dtype=np.float32)


def run_concurrently(batcher, requests):
    results, errors = [None] * len(requests), [None] * len(requests)

    def send(i):
        try:
            results[i] = batcher(*requests[i])
        except Exception as err:  # noqa: BLE001 - collected for the assertions
            errors[i] = err

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_concurrent_requests_share_forward_passes_and_get_their_own_rows():
    model = SlowModel()
    batcher = MicroBatcher(model, max_wait_ms=20, max_pairs=64)
    requests = [(["x" * (i + 1)] * (i % 3 + 1), [f"aspect{i}"] * (i % 3 + 1)) for i in range(16)]
    results, errors = run_concurrently(batcher, requests)
    assert errors == [None] * 16
    for (texts, aspects), result in zip(requests, results):
        assert result.tolist() == [[len(t), len(a), 0.0] for t, a in zip(texts, aspects)]
    assert sum(model.calls) == sum(len(texts) for texts, _ in requests)
    assert len(model.calls) < 16  # at least some requests were predicted together
    assert max(model.calls) > 3
    # the counters an operator reads in /health
    assert batcher.passes == len(model.calls) and batcher.pairs_predicted == sum(model.calls)
    assert batcher.busy_seconds >= 0.05 * len(model.calls)


def test_a_lone_request_waits_at_most_the_wait():
    batcher = MicroBatcher(SlowModel(seconds=0), max_wait_ms=5)
    started = time.perf_counter()
    assert batcher(["some text"], ["text"]).shape == (1, 3)
    assert time.perf_counter() - started < 1.0


def test_a_bad_request_fails_alone():
    model = SlowModel()
    model.release.clear()  # hold the first pass so that the next requests gather into one batch
    batcher = MicroBatcher(model, max_wait_ms=50)
    requests = [(["good text"], ["good"]), (["bad text"], ["too long"]), (["fine text"], ["fine"])]
    holder = threading.Thread(target=batcher, args=(["first"], ["first"]))
    holder.start()
    time.sleep(0.1)
    releaser = threading.Timer(0.2, model.release.set)
    releaser.start()
    results, errors = run_concurrently(batcher, requests)
    holder.join()
    assert isinstance(errors[1], ValueError) and results[1] is None
    assert errors[0] is None and errors[2] is None
    assert results[0].tolist() == [[9, 4, 0]] and results[2].tolist() == [[9, 4, 0]]


def test_overload_is_refused_at_once_not_queued():
    model = SlowModel()
    model.release.clear()
    batcher = MicroBatcher(model, max_wait_ms=0, max_queued_pairs=4, timeout_s=5)
    waiting = [threading.Thread(target=batcher, args=(["t"] * 2, ["a"] * 2)) for _ in range(3)]
    for thread in waiting:
        thread.start()
        time.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(Overloaded, match="at most 4 are queued"):
        batcher(["t"] * 3, ["a"] * 3)
    assert time.perf_counter() - started < 0.5
    model.release.set()
    for thread in waiting:
        thread.join(timeout=10)


def test_an_unanswered_request_times_out_and_is_skipped():
    model = SlowModel(seconds=0)
    model.release.clear()
    batcher = MicroBatcher(model, max_wait_ms=0, timeout_s=0.2)
    with pytest.raises(TimeoutError, match="0.2 s"):
        batcher(["held"], ["a"])  # its pass has started and waits for the model
    with pytest.raises(TimeoutError):
        batcher(["abandoned"], ["b"])  # still queued when it gives up
    batcher.timeout_s = 5
    model.release.set()
    assert batcher(["after"], ["c"]).tolist() == [[5, 1, 0]]
    assert model.calls == [1, 1]  # "held" (answered too late), then "after"; "abandoned" never ran


def test_every_pass_runs_in_the_one_model_thread():
    threads = []

    def model(texts, aspects):
        threads.append(threading.get_ident())
        return np.zeros((len(texts), 3), dtype=np.float32)

    batcher = MicroBatcher(model, max_wait_ms=0)
    run_concurrently(batcher, [(["a"], ["a"])] * 6)
    batcher(["b"], ["b"])
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()


@pytest.mark.parametrize(
    "kwargs, bad",
    [({"max_pairs": 0}, "max_pairs"), ({"max_wait_ms": -1}, "max_wait_ms"), ({"timeout_s": 0}, "timeout")],
)
def test_settings_are_checked(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        MicroBatcher(SlowModel(), **kwargs)


def test_the_record_of_pass_sizes_stays_bounded_on_a_long_running_server():
    batcher = MicroBatcher(SlowModel(seconds=0), max_wait_ms=0)
    for _ in range(1100):
        batcher(["t"], ["a"])
    assert len(batcher.batch_sizes) == 1024 and sum(batcher.batch_sizes) == 1024
