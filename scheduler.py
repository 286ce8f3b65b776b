"""The monitoring daemon's composition root (``claimwatch run``).

Not built yet: the daemon (APScheduler 3.x, crawls in their own processes, the weekly digest) is the
subject of its own issue. Until then, run ``claimwatch crawl`` from cron or a systemd timer.
"""

from __future__ import annotations
