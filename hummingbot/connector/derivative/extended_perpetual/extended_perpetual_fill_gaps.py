"""When the account stream may have missed fills, and from when to read them back.

Fills come from the account stream's TRADE rows. Hummingbot's default reads every tracked order's trades over REST on
each status poll and on every reconnection, which on Extended's shared 1,000 requests a minute starves order traffic;
here REST reads fills only while a gap is open, and then once for the whole account (one paginated GET /user/trades
back to the last fill seen), whatever the number of orders.

    event                                             | gap
    --------------------------------------------------+------------------------------------------------------------
    connector built (no stream yet)                   | open
    account stream (re)connected (snapshot), or its   | open (a sequence gap makes the stream reconnect)
      connection lost                                 |
    an order shows more filled than its fills, and    | open
      stays so for FILL_LAG_GRACE                     |
    a read of the account's fills answered, and no    | closed
      gap opened while it ran                         |

A read that fails, or that a newer gap overtook, leaves the gap open: the next status poll or reconnection reads again.
Hummingbot's order tracker drops a fill it already has (same trade id), so a fill read twice counts once.
"""
from typing import Optional

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS


class FillGaps:
    def __init__(self):
        self._open = True
        self._generation = 0
        self._last_fill_ms: Optional[int] = None

    @property
    def open(self) -> bool:
        return self._open

    def opened(self):
        self._open = True
        self._generation += 1

    def seen(self, fill_timestamp: float):
        """A fill was applied (from the stream or a read); `fill_timestamp` is Extended's, in seconds."""
        fill_ms = int(fill_timestamp * 1000)
        if self._last_fill_ms is None or fill_ms > self._last_fill_ms:
            self._last_fill_ms = fill_ms

    def read_started(self) -> int:
        return self._generation

    def read_answered(self, started: int):
        if started == self._generation:
            self._open = False

    def since_ms(self, oldest_order_ms: int) -> int:
        """Where a read starts: the later of the last fill seen and the oldest order that can still fill (no fill of
        a tracked order is older than the order), less a margin. Fill times are Extended's, order creation times this
        machine's: the margin also covers a clock difference of up to FILL_RECOVERY_MARGIN_MS."""
        since = oldest_order_ms if self._last_fill_ms is None else max(self._last_fill_ms, oldest_order_ms)
        return max(0, since - CONSTANTS.FILL_RECOVERY_MARGIN_MS)
