# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""In-process token buckets for the JSON API (plain Python, no ORM).

One bucket per key (``dbname:uid`` for an API key's user, ``dbname:ip`` for
failed authentications). A bucket holds ``rate`` tokens and refills at
``rate`` tokens per minute; a request takes one token or is refused.

The buckets live in one process: with several Odoo workers each worker
counts on its own, which bounds the total at ``workers x rate``. Put a
reverse proxy limit in front for a hard global cap.
"""

import threading
import time
from collections import OrderedDict

_MAX_BUCKETS = 10_000


class TokenBucketLimiter:
    """Token buckets keyed by string; at most ``max_buckets`` are kept, the least recently used go first."""

    def __init__(self, clock=time.monotonic, max_buckets=_MAX_BUCKETS):
        self._clock = clock
        self._max_buckets = max_buckets
        self._lock = threading.Lock()
        self._buckets = OrderedDict()

    def allow(self, key, rate):
        """Take a token from ``key``'s bucket; ``False`` when it is empty. ``rate <= 0`` disables the limit."""
        if rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            tokens, updated, bucket_rate = self._buckets.get(key, (float(rate), now, rate))
            if bucket_rate != rate:  # the setting changed: start the bucket again
                tokens, bucket_rate = float(rate), rate
            tokens = min(float(rate), tokens + (now - updated) * rate / 60.0)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now, bucket_rate)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self._max_buckets:
                # the least recently used bucket; an empty bucket in use stays, so a guesser
                # cannot refill its own bucket by creating many others
                self._buckets.popitem(last=False)
            return allowed

    def available(self, key, rate):
        """Whether ``key`` has a token left, without taking it."""
        if rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            tokens, updated, bucket_rate = self._buckets.get(key, (float(rate), now, rate))
        if bucket_rate != rate:
            return True
        return min(float(rate), tokens + (now - updated) * rate / 60.0) >= 1.0

    def retry_after(self, key, rate):
        """Seconds until ``key`` gets its next token (at least 1)."""
        if rate <= 0:
            return 1
        now = self._clock()
        with self._lock:
            tokens, updated, _rate = self._buckets.get(key, (float(rate), now, rate))
        tokens = min(float(rate), tokens + (now - updated) * rate / 60.0)
        if tokens >= 1.0:
            return 1
        return max(1, int((1.0 - tokens) * 60.0 / rate + 0.999))

    def reset(self):
        with self._lock:
            self._buckets.clear()


limiter = TokenBucketLimiter()
