import asyncio
import time
from collections import deque
from typing import Deque, Dict, Tuple

# Lighter counts every client WebSocket message except transactions against 200 a minute per IP, and allows 50 in
# flight (test/fixtures/lighter_rate_limits.txt). The pacer keeps this process at 180 a minute, leaving room for the
# pongs it owes the server, and at 40 a second so that a burst of subscriptions stays under the in-flight cap.
WINDOWS: Tuple[Tuple[int, float], ...] = ((180, 60.0), (40, 1.0))


class WsMessagePacer:
    """Hands out send times so that no window ever holds more messages than its count. Reservation is synchronous
    (no lock to bind to an event loop): each caller takes the next free slot, then sleeps until it."""

    def __init__(self, windows: Tuple[Tuple[int, float], ...] = WINDOWS):
        self._windows = windows
        self._horizon = max(seconds for _, seconds in windows)
        self._slots: Deque[float] = deque()

    def reserve(self) -> float:
        """The monotonic time at which one more message may leave."""
        now = time.monotonic()
        slots = self._slots
        while slots and slots[0] <= now - self._horizon:
            slots.popleft()
        slot = max(now, slots[-1]) if slots else now
        for count, seconds in self._windows:
            if len(slots) >= count:
                slot = max(slot, slots[-count] + seconds)
        slots.append(slot)
        return slot

    async def wait(self):
        delay = self.reserve() - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


_pacers: Dict[str, WsMessagePacer] = {}


def pacer_for(ws_url: str) -> WsMessagePacer:
    """One pacer per stream URL in this process: the order book and account streams share Lighter's per-IP budget.
    Other processes on the same IP are not seen."""
    pacer = _pacers.get(ws_url)
    if pacer is None:
        pacer = _pacers[ws_url] = WsMessagePacer()
    return pacer
