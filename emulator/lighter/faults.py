"""Fault injection, configured from tests through `LighterEmulator.faults`.

Request faults are keyed by REST path ("/api/v1/sendTx"), by transaction type ("tx:14", applies to REST and
WS sendtx) or "*" for every request, and can be limited to the next `count` matching requests:

    ex.faults.add("/api/v1/accountActiveOrders", status=429, count=2)
    ex.faults.add("tx:15", latency_ms=300)
    ex.faults.add("/api/v1/sendTx", timeout_ms=5000)      # hold, then drop the connection unanswered
    ex.faults.add("tx:14", timeout_ms=1)                  # over WS: the frame is lost, never executed nor answered
    ex.faults.nonce_errors(1)                              # next tx answers 21104
    ex.faults.skip_book_update(0)                          # next order_book/0 update is never sent
    ex.faults.rest_index_delay_ms = 2000                   # new orders hidden from REST order lists
    ex.faults.close_websockets()                           # server closes every WS connection
    ex.faults.answer_ids = False                           # WS sendtx answers stop echoing the request id
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional


@dataclass
class FaultRule:
    latency_ms: int = 0
    status: Optional[int] = None
    timeout_ms: int = 0
    count: Optional[int] = None
    hits: int = 0


class Faults:
    def __init__(self):
        self.rules: Dict[str, FaultRule] = {}
        self.rest_index_delay_ms = 0
        self.answer_ids = True
        self._nonce_errors = 0
        self._book_skips: Dict[int, int] = {}
        self._ws_closer: Optional[Callable[[], None]] = None

    def add(self, target: str, latency_ms: int = 0, status: Optional[int] = None, timeout_ms: int = 0,
            count: Optional[int] = None) -> FaultRule:
        rule = FaultRule(latency_ms=latency_ms, status=status, timeout_ms=timeout_ms, count=count)
        self.rules[target] = rule
        return rule

    def clear(self, target: Optional[str] = None):
        if target is None:
            self.rules.clear()
            self._nonce_errors = 0
            self._book_skips.clear()
            self.rest_index_delay_ms = 0
            self.answer_ids = True
        else:
            self.rules.pop(target, None)

    def take(self, targets: List[str]) -> List[FaultRule]:
        """Rules matching any of `targets` (plus "*"), counting this request against their budget."""
        matched = []
        if not self.rules:
            return matched
        for target in targets + ["*"]:
            rule = self.rules.get(target)
            if rule is None:
                continue
            rule.hits += 1
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    del self.rules[target]
            matched.append(rule)
        return matched

    def nonce_errors(self, count: int = 1):
        self._nonce_errors += count

    def take_nonce_error(self) -> bool:
        if self._nonce_errors > 0:
            self._nonce_errors -= 1
            return True
        return False

    def skip_book_update(self, market_id: int, count: int = 1):
        self._book_skips[market_id] = self._book_skips.get(market_id, 0) + count

    def take_book_skip(self, market_id: int) -> bool:
        left = self._book_skips.get(market_id, 0)
        if left > 0:
            self._book_skips[market_id] = left - 1
            return True
        return False

    def close_websockets(self):
        if self._ws_closer is not None:
            self._ws_closer()

    def bind_ws_closer(self, closer: Callable[[], None]):
        self._ws_closer = closer
