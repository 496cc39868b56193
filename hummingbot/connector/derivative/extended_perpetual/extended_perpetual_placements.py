"""What is known about each order's creation on Extended, from its POST until proof either way.

An order POST that gets no answer (timeout, lost connection, HTTP 5xx) may still have placed the order: Extended's
gateway hands an accepted order to its matching engine, which can place it after the client has given up, and the
account stream or a look-up by external id may show it only then. Such an outcome is UNKNOWN, and an unknown outcome
is never reported as a failure: the order stays tracked (PENDING_CREATE in Hummingbot) until Extended shows it (the
account stream, or the look-up by external id) or proves it absent. 429s, 5xx and unanswered look-ups prove nothing.
A 404 proves nothing while the POST could still be on its way to the engine, i.e. within ABSENCE_GRACE after the POST
ended; after it, two 404s in a row (a second apart) prove absence. The look-ups back off while the grace runs, and the
first one after it comes as soon as it is over, so an order that never reached Extended fails about ABSENCE_GRACE plus a
second after its POST ended, with a handful of look-ups.

    state    | event         | next     | what Hummingbot sees
    ---------+---------------+----------+---------------------------------------------------------
    SENT     | ANSWERED      | ACCEPTED | OPEN, with the exchange id of the answer
    SENT     | REFUSED       | REFUSED  | FAILED, with Extended's reason
    SENT     | NO_ANSWER     | UNKNOWN  | PENDING_CREATE; look-ups by external id start
    SENT     | SEEN          | FOUND    | the state Extended reports (the POST's answer changes nothing)
    UNKNOWN  | SEEN          | FOUND    | the state Extended reports
    UNKNOWN  | INCONCLUSIVE  | UNKNOWN  | PENDING_CREATE; next look-up after a backoff
    UNKNOWN  | ABSENT        | MISSING  | PENDING_CREATE; one more look-up after a backoff
    MISSING  | SEEN          | FOUND    | the state Extended reports
    MISSING  | INCONCLUSIVE  | MISSING  | PENDING_CREATE; next look-up after a backoff
    MISSING  | ABSENT        | GONE     | FAILED: Extended has no such order

ACCEPTED, REFUSED, FOUND and GONE are final; any other (state, event) pair leaves the state as it is.
Events: ANSWERED = the POST answered with the order's id; REFUSED = it answered with an error (HTTP 4xx or an error
envelope) or the order was refused before it was sent; NO_ANSWER = timeout, connection error or HTTP 5xx;
SEEN = an account-stream update or a look-up shows the order (any status); INCONCLUSIVE = a look-up answered 429, 5xx
or nothing, or 404 within the grace; ABSENT = a look-up answered 404 (or no order) after the grace.
"""
import time
from dataclasses import dataclass
from enum import Enum
from typing import Dict, List, Optional, Tuple


class Placement(Enum):
    SENT = "sent"
    UNKNOWN = "unknown"
    MISSING = "missing"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    FOUND = "found"
    GONE = "gone"


class PlacementEvent(Enum):
    ANSWERED = "answered"
    REFUSED = "refused"
    NO_ANSWER = "no answer"
    SEEN = "seen"
    INCONCLUSIVE = "inconclusive"
    ABSENT = "absent"


TRANSITIONS: Dict[Tuple[Placement, PlacementEvent], Placement] = {
    (Placement.SENT, PlacementEvent.ANSWERED): Placement.ACCEPTED,
    (Placement.SENT, PlacementEvent.REFUSED): Placement.REFUSED,
    (Placement.SENT, PlacementEvent.NO_ANSWER): Placement.UNKNOWN,
    (Placement.SENT, PlacementEvent.SEEN): Placement.FOUND,
    (Placement.UNKNOWN, PlacementEvent.SEEN): Placement.FOUND,
    (Placement.UNKNOWN, PlacementEvent.INCONCLUSIVE): Placement.UNKNOWN,
    (Placement.UNKNOWN, PlacementEvent.ABSENT): Placement.MISSING,
    (Placement.MISSING, PlacementEvent.SEEN): Placement.FOUND,
    (Placement.MISSING, PlacementEvent.INCONCLUSIVE): Placement.MISSING,
    (Placement.MISSING, PlacementEvent.ABSENT): Placement.GONE,
}
UNRESOLVED = (Placement.SENT, Placement.UNKNOWN, Placement.MISSING)
# States whose order is looked up by external id until it is found or proven absent.
LOOKING_UP = (Placement.UNKNOWN, Placement.MISSING)
_POST_OUTCOMES = (PlacementEvent.ANSWERED, PlacementEvent.REFUSED, PlacementEvent.NO_ANSWER)

# How long after an unanswered POST ended a 404 still proves nothing. The POST gave up after the full request timeout,
# so Extended was at least that slow; an order still queued before its matching engine gets as long again [inferred:
# Extended does not document how late an accepted order can appear].
ABSENCE_GRACE = 10.0


@dataclass
class _Record:
    state: Placement
    post_ended: Optional[float] = None  # time.monotonic() when the POST answered or gave up


class Placements:
    """The placement state of every order whose POST is under way or whose outcome is not known yet."""

    def __init__(self):
        self._records: Dict[str, _Record] = {}

    def sent(self, client_order_id: str):
        self._records[client_order_id] = _Record(Placement.SENT)

    def state(self, client_order_id: str) -> Optional[Placement]:
        record = self._records.get(client_order_id)
        return record.state if record is not None else None

    def unresolved(self, client_order_id: str) -> bool:
        return self.state(client_order_id) in UNRESOLVED

    def looking_up(self) -> List[str]:
        return [client_order_id for client_order_id, record in self._records.items() if record.state in LOOKING_UP]

    def on(self, client_order_id: str, event: PlacementEvent) -> Optional[Placement]:
        """Applies `event` by the table and returns the new state (None for an order not placed by this connector).
        A final state is forgotten once the POST is over: nothing can change it any more."""
        record = self._records.get(client_order_id)
        if record is None:
            return None
        record.state = TRANSITIONS.get((record.state, event), record.state)
        if event in _POST_OUTCOMES:
            record.post_ended = time.monotonic()
        if record.state not in UNRESOLVED and record.post_ended is not None:
            del self._records[client_order_id]
        return record.state

    def grace_left(self, client_order_id: str) -> float:
        """Seconds until a look-up that finds no such order proves something (0 once the grace is over)."""
        record = self._records.get(client_order_id)
        if record is None or record.post_ended is None:
            return 0.0
        return max(0.0, ABSENCE_GRACE - (time.monotonic() - record.post_ended))

    def not_found(self, client_order_id: str) -> Optional[Placement]:
        """A look-up found no such order: ABSENT once the grace after the POST is over, else INCONCLUSIVE."""
        record = self._records.get(client_order_id)
        late = (record is not None and record.post_ended is not None
                and time.monotonic() - record.post_ended >= ABSENCE_GRACE)
        return self.on(client_order_id, PlacementEvent.ABSENT if late else PlacementEvent.INCONCLUSIVE)
