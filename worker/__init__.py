"""Crawl workers on several machines, sharing one Redis and one database (``[cluster]``).

The daemon (``claimwatch run``) enqueues each due crawl on a Dramatiq queue in Redis instead of
running it; ``claimwatch worker`` takes crawls from that queue and runs each as the daemon would,
``claimwatch crawl SOURCE`` in its own process, holding the source's Redis lock meanwhile so no
two workers crawl one source at once.

:mod:`worker.process` (running a claimwatch command in its own process, shared with the
scheduler), :mod:`worker.broker` (the broker, enqueueing, queue depth), :mod:`worker.lock` (the
per-source lock with its expiry), :mod:`worker.tasks` (the crawl task) and :mod:`worker.run` (the
worker loop). Dramatiq is imported only where a worker or an enqueue needs it.
"""
