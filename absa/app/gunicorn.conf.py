"""Production entry: gunicorn -c absa/app/gunicorn.conf.py "absa.app:create_app()"

One worker process holds one copy of the model; its threads share it: they parse requests and wait while the
micro-batcher (absa/app/batching.py) runs one forward pass at a time for all of them, so there are enough threads
for requests to gather (32 by default) without forward passes competing for the cores. Scale out with more
containers rather than more workers per container, and size torch's threads (OMP_NUM_THREADS) to the cores given to
a worker.
"""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")  # local only unless told; the container image sets BIND=0.0.0.0:8000
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "32"))
# A worker whose main loop stops answering for this long is replaced. With gthread workers a slow request runs in
# a thread while the main loop goes on answering, so this does not bound a request: the app bounds the work of one
# request instead (MAX_PAIRS (text, aspect) pairs).
timeout = 60
graceful_timeout = 30  # finish in-flight requests on SIGTERM (rolling deploys, scale-in)
keepalive = 5
accesslog = "-"
