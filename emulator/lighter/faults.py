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
    ex.faults.add("tx:14", code=23000, disconnect=True)   # refused with that code, then the connection closed
    ex.faults.add("tx:14", hold_ms=11000)                 # held, then executed even if the client left
    ex.faults.add("tx:14", answer_lost=True)              # executed, but the answer never reaches the client
    ex.faults.nonce_error = (400, "invalid nonce")         # every nonce error answered this way (lighter-python #60)
    ex.faults.error_object = True                          # WS errors as {"error": {code, message}, "id"}
    ex.faults.next_nonce_lag_ms = 350                      # /nextNonce shows executions this much later
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from emulator.lighter import constants as C

# Messages of the refusals a fault can answer with. 23000 is in constants; 21506's text is inferred from its name.
REFUSAL_MESSAGES = {C.TOO_MANY_REQUESTS[0]: C.TOO_MANY_REQUESTS[1], 21506: "too many pending txs"}


@dataclass
class FaultRule:
    latency_ms: int = 0
    status: Optional[int] = None
    timeout_ms: int = 0
    count: Optional[int] = None
    hits: int = 0
    # Lighter result code to refuse with (sendTx over WS or REST), e.g. 23000 too many requests, 21506 too many
    # pending txs.
    code: Optional[int] = None
    # Close the connection once the answer is sent (inferred: how the venue may treat a client over its quota).
    disconnect: bool = False
    # sendTx: answered, and executed, this long after it arrived, whether or not the client is still connected.
    hold_ms: int = 0
    # sendTx: executed, then the answer is lost (a WS frame never sent; REST: the connection closed unanswered).
    answer_lost: bool = False


class Faults:
    def __init__(self):
        self.rules: Dict[str, FaultRule] = {}
        self.rest_index_delay_ms = 0
        self.answer_ids = True
        self._reset_answers()
        self._nonce_errors = 0
        self._book_skips: Dict[int, int] = {}
        self._ws_closer: Optional[Callable[[], None]] = None

    def _reset_answers(self):
        # (code, message) of every nonce error; None: the venue's usual 21104.
        self.nonce_error: Optional[Tuple[int, str]] = None
        self.error_object = False
        self.next_nonce_lag_ms = 0

    def add(self, target: str, latency_ms: int = 0, status: Optional[int] = None, timeout_ms: int = 0,
            count: Optional[int] = None, code: Optional[int] = None, disconnect: bool = False,
            hold_ms: int = 0, answer_lost: bool = False) -> FaultRule:
        rule = FaultRule(latency_ms=latency_ms, status=status, timeout_ms=timeout_ms, count=count, code=code,
                         disconnect=disconnect, hold_ms=hold_ms, answer_lost=answer_lost)
        self.rules[target] = rule
        return rule

    def clear(self, target: Optional[str] = None):
        if target is None:
            self.rules.clear()
            self._nonce_errors = 0
            self._book_skips.clear()
            self.rest_index_delay_ms = 0
            self.answer_ids = True
            self._reset_answers()
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
