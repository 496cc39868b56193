"""Fan-out of stream messages to connected WebSocket subscribers, each with its own queue and seq counter."""
import asyncio
from collections import defaultdict
from typing import Callable, Dict, Optional, Set

CLOSE = object()
QUEUE_LIMIT = 20_000


class Subscriber:
    """One WebSocket connection. Queue items are (type or None, data, gap) or CLOSE."""

    __slots__ = ("kind", "market", "account_id", "depth", "queue", "overflow")

    def __init__(self, kind: str, market: Optional[str] = None, account_id: Optional[int] = None,
                 depth: Optional[int] = None):
        self.kind = kind
        self.market = market
        self.account_id = account_id
        self.depth = depth
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.overflow = False

    def push(self, item):
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # a reader this far behind is dropped, as the exchange drops slow consumers
            self.overflow = True


class StreamHub:
    def __init__(self):
        self._subs: Dict[str, Set[Subscriber]] = defaultdict(set)
        self._gap_markets: Set[Optional[str]] = set()

    def subscribe(self, sub: Subscriber):
        self._subs[sub.kind].add(sub)

    def unsubscribe(self, sub: Subscriber):
        self._subs[sub.kind].discard(sub)

    def subscribers(self, kind: str, market: Optional[str] = None):
        return [s for s in self._subs.get(kind, ()) if s.market is None or s.market == market]

    def has_account(self, account_id: int) -> bool:
        return any(s.account_id == account_id for s in self._subs.get("account", ()))

    def count(self, kind: Optional[str] = None) -> int:
        kinds = [kind] if kind else list(self._subs)
        return sum(len(self._subs.get(k, ())) for k in kinds)

    def request_gap(self, market: Optional[str]):
        """Make the next order-book DELTA of `market` (None = any market) skip one seq number."""
        self._gap_markets.add(market)

    def publish(self, kind: str, market: Optional[str], msg_type: Optional[str], data):
        for sub in self.subscribers(kind, market):
            sub.push((msg_type, data, False))

    def publish_book(self, market: str, delta: dict, top_snapshot: Callable[[], dict]):
        gap = False
        for key in (market, None):
            if key in self._gap_markets:
                self._gap_markets.discard(key)
                gap = True
        top = None
        for sub in self.subscribers("orderbooks", market):
            if sub.depth == 1:
                top = top if top is not None else top_snapshot()
                sub.push(("SNAPSHOT", top, gap))
            else:
                sub.push(("DELTA", delta, gap))

    def publish_account(self, account_id: int, msg_type: str, data: dict):
        for sub in self._subs.get("account", ()):
            if sub.account_id == account_id:
                sub.push((msg_type, data, False))

    def close(self, kind: Optional[str] = None) -> int:
        """Ask matching connections to close; returns how many were asked."""
        subs = [s for k, group in self._subs.items() if kind in (None, k, k.split("/")[0]) for s in group]
        for sub in subs:
            sub.push(CLOSE)
        return len(subs)
