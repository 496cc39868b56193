import asyncio
import time
from collections import deque
from typing import Deque, Dict, Optional, Tuple

# Lighter counts every client WebSocket message except transactions against 200 a minute per IP, and allows 50 in
# flight (test/fixtures/lighter_rate_limits.txt). The pacer keeps this process at 180 a minute, leaving room for the
# pongs it owes the server, and spreads them at 10 a second: far under the in-flight cap, and a server that reads a
# burst late (the minute is counted on its side) never sees one minute's messages run into the next's.
WINDOWS: Tuple[Tuple[int, float], ...] = ((180, 60.0), (10, 1.0))


class WsMessagePacer:
    """Lets a message leave only when no window would then hold more messages than its count. Windows count the
    times messages actually left, not the times they were meant to: a busy event loop that sends a paced burst late
    must not let the next burst follow it too closely. Waiters go one at a time, in order."""

    def __init__(self, windows: Tuple[Tuple[int, float], ...] = WINDOWS):
        self._windows = windows
        self._horizon = max(seconds for _, seconds in windows)
        self._sent: Deque[float] = deque()
        self._lock: Optional[asyncio.Lock] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def delay(self) -> float:
        """Seconds until one more message may leave (0: now)."""
        now = time.monotonic()
        sent = self._sent
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        free_at = now
        for count, seconds in self._windows:
            if len(sent) >= count:
                free_at = max(free_at, sent[-count] + seconds)
        return free_at - now

    async def wait(self):
        """Returns when the caller may send one message, counted as sent now."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            delay = self.delay()
            while delay > 0:
                await asyncio.sleep(delay)
                delay = self.delay()
            self._sent.append(time.monotonic())


_pacers: Dict[str, WsMessagePacer] = {}


def pacer_for(ws_url: str) -> WsMessagePacer:
    """One pacer per stream URL in this process: the order book and account streams share Lighter's per-IP budget.
    Other processes on the same IP are not seen."""
    pacer = _pacers.get(ws_url)
    if pacer is None:
        pacer = _pacers[ws_url] = WsMessagePacer()
    return pacer
