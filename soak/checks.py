"""The soak's invariants: Hummingbot's view (events and order tracker) against the emulator's truth."""
import itertools
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from hummingbot.core.data_type.common import PositionSide
from hummingbot.core.event.event_forwarder import EventForwarder
from hummingbot.core.event.events import (
    BuyOrderCompletedEvent,
    MarketEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderFilledEvent,
    SellOrderCompletedEvent,
)
from soak.faults import Injector
from soak.venues import CANCELED, FILLED, LIVE, REFUSED, Venue

ABSENT = "absent"  # the exchange never executed it (refused for a fault, a nonce, or never received)
# Hummingbot's final state each exchange outcome allows.
ALLOWED = {
    LIVE: {"OPEN", "PARTIALLY_FILLED"},
    FILLED: {"FILLED"},
    CANCELED: {"CANCELED"},
    REFUSED: {"CANCELED", "FAILED"},
    ABSENT: {"FAILED"},
}
INVARIANTS = ("state", "false_failed", "untracked", "duplicates", "fills_lost", "fills_extra", "position", "balance",
              "book", "cascades", "needless_restarts", "leaks")
# What has happened cannot unhappen: a failure reported, an order placed twice, a restart, a secret written.
# An order the connector refused because the rate budget had no room for it within its maximum age: the workload's
# doing, not another transaction's failure.
RATE_LIMITED = "Not sent (rate limit)"
PERMANENT = ("false_failed", "duplicates", "cascades", "needless_restarts", "leaks")
EVENTS = (MarketEvent.OrderFilled, MarketEvent.OrderCancelled, MarketEvent.OrderFailure,
          MarketEvent.BuyOrderCompleted, MarketEvent.SellOrderCompleted)
EXAMPLES = 5


class Journal:
    """Hummingbot's events for the run: every fill, each order's last terminal event and its failure message."""

    def __init__(self, connector):
        self.fills: List[OrderFilledEvent] = []
        self.terminal: Dict[str, str] = {}
        self.failures: Dict[str, str] = {}
        # Hummingbot holds listeners weakly: the journal keeps its own.
        self.listener = EventForwarder(self.record)
        for event in EVENTS:
            connector.add_listener(event, self.listener)

    def record(self, event):
        if isinstance(event, OrderFilledEvent):
            self.fills.append(event)
        elif isinstance(event, (BuyOrderCompletedEvent, SellOrderCompletedEvent)):
            self.terminal[event.order_id] = "FILLED"
        elif isinstance(event, OrderCancelledEvent):
            self.terminal[event.order_id] = "CANCELED"
        elif isinstance(event, MarketOrderFailureEvent):
            self.terminal[event.order_id] = "FAILED"
            self.failures[event.order_id] = f"{event.error_type}: {event.error_message}"


def hummingbot_state(connector, journal: Journal, client_id: str) -> str:
    tracker = connector._order_tracker
    if client_id in tracker.lost_orders:
        return "LOST"
    order = tracker.active_orders.get(client_id)
    if order is not None:
        return order.current_state.name
    return journal.terminal.get(client_id, "UNTRACKED")


def exchange_outcomes(venue: Venue, injector: Injector, submitted: List[str]) -> Tuple[Dict[str, str], Counter]:
    """client id -> outcome class, and how many times each client id was placed on the exchange."""
    placed = Counter()
    outcome: Dict[str, str] = {}
    for order in venue.orders():
        placed[order.client_id] += 1
        outcome[order.client_id] = order.kind
    for client_id in submitted:
        if client_id not in outcome:
            outcome[client_id] = REFUSED if client_id in injector.refused else ABSENT
    return outcome, placed


def in_transition(connector) -> bool:
    tracker = connector._order_tracker
    return bool(tracker.lost_orders) or any(order.is_pending_create or order.is_pending_cancel_confirmation
                                            for order in tracker.active_orders.values())


def signed_position(connector, pair: str) -> Decimal:
    total = Decimal(0)
    for position in connector.account_positions.values():
        if position.trading_pair == pair and position.amount:
            sign = 1 if position.position_side == PositionSide.LONG else -1
            total += sign * abs(position.amount)
    return total


def hummingbot_book(connector, pair: str):
    book = connector.get_order_book(pair)
    return ([(Decimal(str(row.price)), Decimal(str(row.amount))) for row in book.bid_entries()],
            [(Decimal(str(row.price)), Decimal(str(row.amount))) for row in book.ask_entries()])


def book_difference(book, truth) -> str:
    for side, ours, theirs in (("bids", book[0], truth[0]), ("asks", book[1], truth[1])):
        for level, (mine, real) in enumerate(itertools.zip_longest(ours, theirs)):
            if mine != real:
                return f"{side} level {level}: Hummingbot {mine}, exchange {real}"
    return "the books differ"


def fill_key(event: OrderFilledEvent) -> Tuple[str, Decimal, Decimal, Decimal]:
    fees = event.trade_fee.flat_fees
    return event.order_id, event.price, event.amount, fees[0].amount if fees else Decimal(0)


def leaks(venue: Venue, log_path: Optional[Path]) -> List[str]:
    secrets = [secret for secret in venue.secrets() if secret]
    found = []
    if log_path is not None and log_path.exists():
        text = log_path.read_text(errors="replace")
        found += [f"DEBUG log holds secret #{i}" for i, secret in enumerate(secrets) if secret in text]
    wire = "\n".join(repr(record) for record in venue.ex.state.requests)
    # Extended's API key travels in its X-Api-Key header by design; private keys never travel.
    private = venue.secrets()[1:] if venue.name == "extended_perpetual" else secrets
    found += [f"request log holds private key #{i}" for i, secret in enumerate(private) if secret in wire]
    return found


def check(venue: Venue, connector, journal: Journal, injector: Injector, submitted: List[str],
          log_path: Optional[Path] = None, needless_restarts: List[str] = ()) -> Tuple[Counter, Dict[str, List[str]]]:
    """Mismatches per invariant, and a few examples of each (needless restarts: soak.network's sentences)."""
    counts: Counter = Counter({name: 0 for name in INVARIANTS})
    examples: Dict[str, List[str]] = defaultdict(list)

    def flag(name: str, example: str, weight: int = 1):
        counts[name] += weight
        if len(examples[name]) < EXAMPLES:
            examples[name].append(example)

    outcome, placed = exchange_outcomes(venue, injector, submitted)
    sent = set().union(*(venue.order_ids_of(record) for record in venue.ex.state.requests))
    for client_id in submitted:
        state = hummingbot_state(connector, journal, client_id)
        exchange = outcome[client_id]
        if state not in ALLOWED[exchange]:
            flag("state", f"{client_id}: Hummingbot {state}, exchange {exchange}")
        if client_id in journal.failures and exchange in (LIVE, FILLED, CANCELED):
            flag("false_failed", f"{client_id}: exchange {exchange}; {journal.failures[client_id]}")
        if (exchange == ABSENT and state == "FAILED" and client_id not in injector.faulted_ids
                and RATE_LIMITED not in journal.failures.get(client_id, "")):
            flag("cascades", f"{client_id} ({'sent' if client_id in sent else 'never sent'}): "
                             f"{journal.failures.get(client_id, 'no failure event')}")
    tracked_open = {client_id for client_id, order in connector._order_tracker.active_orders.items()
                    if order.is_open and not order.is_pending_create}
    for order in venue.orders():
        if order.kind == LIVE and order.client_id not in tracked_open:
            flag("untracked", f"{order.client_id}: live on the exchange, Hummingbot "
                              f"{hummingbot_state(connector, journal, order.client_id)}")
    for client_id, times in placed.items():
        if times > 1:
            flag("duplicates", f"{client_id}: placed {times} times", times - 1)

    truth = Counter(venue.fills())
    seen = Counter(fill_key(event) for event in journal.fills)
    for key, missing in (truth - seen).items():
        flag("fills_lost", f"{key}", missing)
    for key, extra in (seen - truth).items():
        flag("fills_extra", f"{key}", extra)

    position = signed_position(connector, venue.pair)
    if position != venue.position():
        flag("position", f"Hummingbot {position}, exchange {venue.position()}")
    balance = Decimal(str(connector.get_balance(venue.collateral_token)))
    if balance != venue.balance():
        flag("balance", f"Hummingbot {balance}, exchange {venue.balance()}")
    book = hummingbot_book(connector, venue.pair)
    if book != venue.book():
        flag("book", book_difference(book, venue.book()))
    for restart in needless_restarts:
        flag("needless_restarts", restart)
    for leak in leaks(venue, log_path):
        flag("leaks", leak)
    return counts, examples


def healthy(venue: Venue, connector, journal: Journal, injector: Injector, submitted: List[str]) -> bool:
    """Whether every invariant that waiting can still mend holds now."""
    counts, _ = check(venue, connector, journal, injector, submitted)
    return not any(counts[name] for name in INVARIANTS if name not in PERMANENT)
