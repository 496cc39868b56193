"""Fault injection: REST latency and delays, forced 429/5xx answers, lost requests, word error codes, stream closes,
order-book seq gaps."""
import fnmatch
from dataclasses import dataclass
from typing import List, Optional, Tuple

from emulator.extended.hub import StreamHub


@dataclass
class _Rule:
    pattern: str
    method: Optional[str]
    remaining: Optional[int]  # None = until cleared
    status: Optional[int] = None
    delay: float = 0.0
    answer_delay: float = 0.0
    drop: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.pattern)


class Faults:
    """Paths are relative to /api/v1 and may use shell wildcards, e.g. "/user/order" or "/info/*"."""

    def __init__(self, hub: StreamHub):
        self._hub = hub
        self._rules: List[_Rule] = []
        self.latency = 0.0
        self.stream_latency = 0.0
        # Error bodies of HTTP 404 answers carry the word code {"code": "NOT_FOUND"} instead of a number, as issue 10
        # reports of Extended's answers (the SDK's model types the code as an int).
        self.string_error_codes = False

    def delay(self, seconds: float, path: str = "*", method: Optional[str] = None, count: Optional[int] = None):
        """Hold matching REST requests for `seconds` before they are processed: an order POST held longer than the
        client's timeout goes live after the client gave up on it."""
        self._rules.append(_Rule(path, method, count, delay=seconds))

    def delay_answer(self, seconds: float, path: str = "*", method: Optional[str] = None, count: Optional[int] = 1):
        """Process matching REST requests, then hold the answer for `seconds`: the client may give up on a request
        the exchange has executed."""
        self._rules.append(_Rule(path, method, count, answer_delay=seconds))

    def drop_next(self, seconds: float, path: str = "*", method: Optional[str] = None, count: Optional[int] = 1):
        """Hold matching REST requests for `seconds`, then close their connection without processing them: a request
        lost before the exchange executed it (an order POST that never places its order)."""
        self._rules.append(_Rule(path, method, count, delay=seconds, drop=True))

    def fail_next(self, status: int = 500, path: str = "*", method: Optional[str] = None, count: Optional[int] = 1):
        """Answer the next `count` matching REST requests with HTTP `status` (e.g. 500, 503, 429)."""
        self._rules.append(_Rule(path, method, count, status=status))

    def rate_limit_next(self, path: str = "*", method: Optional[str] = None, count: Optional[int] = 1):
        self.fail_next(429, path, method, count)

    def gap_next_orderbook_delta(self, market: Optional[str] = None):
        """The next order-book DELTA of `market` (any market if None) skips one `seq` on every connection."""
        self._hub.request_gap(market)

    def close_streams(self, kind: Optional[str] = None) -> int:
        """Close stream connections: kind is orderbooks, publicTrades, funding, prices or account; None = all."""
        return self._hub.close(kind)

    def clear(self):
        self._rules.clear()
        self.latency = 0.0
        self.stream_latency = 0.0
        self.string_error_codes = False

    def rest_action(self, method: str, path: str) -> Tuple[float, Optional[int], float, bool]:
        """(seconds to wait before processing, forced HTTP status or None, seconds to hold the answer, whether the
        request is dropped unprocessed) for one REST request; consumes counted rules."""
        wait = self.latency
        status = None
        answer_delay = 0.0
        drop = False
        for rule in list(self._rules):
            if not rule.matches(method, path) or (rule.status is not None and status is not None):
                continue
            wait += rule.delay
            answer_delay += rule.answer_delay
            drop = drop or rule.drop
            if rule.status is not None:
                status = rule.status
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
        return wait, status, answer_delay, drop
