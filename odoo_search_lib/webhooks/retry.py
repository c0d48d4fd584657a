"""When to retry a failed webhook delivery: a fixed schedule with jitter, and the receiver's ``Retry-After``."""

from __future__ import annotations

import math
import random

from ..exceptions import InvalidInputError

#: Delay in seconds before retry n+1, after n failed attempts (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: Relative jitter applied to every scheduled delay (±20 %).
RETRY_JITTER = 0.2
#: A receiver's ``Retry-After`` is honoured up to this many seconds (24 h).
MAX_RETRY_AFTER = 86400.0


def next_retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` when the delivery is dead.

    ``attempt`` counts the failed attempts so far (1 after the first failure). The delay is
    ``RETRY_SCHEDULE[attempt - 1]`` with ±20 % jitter; a larger ``retry_after`` (the receiver's
    ``Retry-After``) wins, capped at :data:`MAX_RETRY_AFTER`. Once the schedule is exhausted the result is
    ``None`` whatever ``retry_after`` says.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise InvalidInputError("attempt counts failed attempts and starts at 1", code="bad_attempt")
    if attempt > len(RETRY_SCHEDULE):
        return None
    base = float(RETRY_SCHEDULE[attempt - 1])
    delay = base * (1.0 + (rng or _RNG).uniform(-RETRY_JITTER, RETRY_JITTER))
    if retry_after is not None and math.isfinite(retry_after) and retry_after > delay:
        delay = min(float(retry_after), MAX_RETRY_AFTER)
    return delay


_RNG = random.Random()
