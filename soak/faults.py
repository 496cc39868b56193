"""The fault kinds of both emulators, in one table per exchange, and their injection during a soak run.

Three styles:
  event    armed for one occurrence (the emulator's `count=1`) with probability `rate` at each workload step; it counts
           as injected once the emulator applied it
  spell    a way of answering switched on for one workload step with probability `rate` (injected = steps on)
  setting  a realistic property of the venue, on for the whole faulted phase when its rate is above 0

Neither emulator keeps a registry of its fault kinds, so `uncovered_switches` reads their switches (the public
methods and attributes of `Faults`, and for Lighter the fields of `FaultRule`) and names those no kind here uses: a
switch added to an emulator shows up there until a kind below exercises it.

Each injector also records the orders the exchange refused on their own merits (`refused`: client id -> the
exchange's error code; Lighter: a create whose checks after the nonce failed, Extended: an order POST that failed
validation), and attributes faults to orders: it wraps the emulator's fault look-ups in this process and, when one
applies to a request, records the client ids of the orders that request tries to create (`faulted_ids`) and the
request itself (`faulted_requests`, which soak.network reads to tell a network check the fault failed). Both
emulators log a request and look its faults up with no await in between, so the newest log entry is that request.
"""
import dataclasses
import inspect
import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Set, Tuple

from emulator.extended import rest_private
from emulator.extended.errors import ExchangeError
from emulator.extended.faults import Faults as ExtendedFaults
from emulator.extended.hub import StreamHub
from emulator.extended.validation import validate_order
from emulator.lighter import constants as LIGHTER
from emulator.lighter.errors import LighterError
from emulator.lighter.faults import FaultRule, Faults as LighterFaults
from soak.venues import Venue, id_free

EVENT, SPELL, SETTING = "event", "spell", "setting"
DEFAULT_RATE = 0.05
# Lighter's tx types the workload sends, weighted as it sends them: creates, cancels, leverage updates.
TX_TARGETS = ((f"tx:{LIGHTER.TX_TYPE_CREATE_ORDER}", 70), (f"tx:{LIGHTER.TX_TYPE_CANCEL_ORDER}", 25),
              (f"tx:{LIGHTER.TX_TYPE_UPDATE_LEVERAGE}", 5))
HELD_MS = 11_000  # beyond both connectors' 10 s answer timeouts
# The emulators' plumbing: how faults are looked up and cleared, not kinds of fault.
PLUMBING = {"add", "clear", "take", "take_nonce_error", "take_book_skip", "bind_ws_closer", "rules", "count", "hits",
            "rest_action"}


@dataclass(frozen=True)
class FaultKind:
    name: str
    style: str
    switches: Tuple[str, ...]  # the emulator switches it uses
    action: Callable  # event: (injector, rng) -> probe telling whether it was applied, or None; else (injector, on)


class Injector:
    kinds: Tuple[FaultKind, ...] = ()

    def __init__(self, venue: Venue, rates: Dict[str, float]):
        self.venue = venue
        self.ex = venue.ex
        self.rates = {kind.name: rates.get(kind.name, 0.0) for kind in self.kinds}
        self.faulted_ids: Set[str] = set()
        self.faulted_requests: Set[int] = set()  # id() of each logged request a fault was applied to
        self.refused: Dict[str, int] = {}
        self.applied: Counter = Counter()  # counted by the wrappers (kinds whose effect the emulator reports)
        self.armed: Counter = Counter()
        self._probes: List[Tuple[str, Callable[[], bool]]] = []
        self.active = False
        # Logged requests whose endpoint the REST fault kinds leave alone (soak.run spares the network check's on ask).
        self.spared: Callable[[object], bool] = lambda record: False

    @classmethod
    def kind_names(cls) -> List[str]:
        return [kind.name for kind in cls.kinds]

    def begin(self):
        self.active = True
        for kind in self.kinds:
            if kind.style == SETTING and self.rates[kind.name] > 0:
                kind.action(self, True)
                self.applied[kind.name] += 1

    def step(self, rng: random.Random):
        for kind in self.kinds:
            rate = self.rates[kind.name]
            if kind.style == EVENT:
                if rate > 0 and rng.random() < rate:
                    probe = kind.action(self, rng)
                    self.armed[kind.name] += 1
                    if probe is not None:
                        self._probes.append((kind.name, probe))
            elif kind.style == SPELL:
                on = rate > 0 and rng.random() < rate
                kind.action(self, on)
                self.applied[kind.name] += on

    def end(self):
        """Every fault off: the quiescence phase runs on a healthy venue."""
        self.active = False
        self.ex.faults.clear()
        for kind in self.kinds:
            if kind.style != EVENT:
                kind.action(self, False)

    def injected(self) -> Counter:
        counts = Counter(self.applied)
        for name, probe in self._probes:
            counts[name] += probe()
        return counts

    def attribute(self, record):
        if self.active:
            self.faulted_ids |= self.venue.order_ids_of(record)
            self.faulted_requests.add(id(record))  # the log keeps every record of the run, so ids stay unique

    def restore(self):
        """Undoes any wrapper that outlives the emulator."""


# --- Lighter ----------------------------------------------------------------------------------------------------


def _tx_rule(**rule) -> Callable:
    def arm(injector: "LighterInjector", rng: random.Random):
        targets, weights = zip(*TX_TARGETS)
        return injector.add(rng.choices(targets, weights)[0], **rule)
    return arm


def _rest_rule(**rule) -> Callable:
    def arm(injector: "LighterInjector", rng: random.Random):
        paths = sorted({r.path for r in injector.ex.state.requests if r.transport == "rest" and not injector.spared(r)})
        return injector.add(rng.choice(paths), **rule) if paths else None
    return arm


def _lighter_attribute(name: str, on_value, off_value) -> Callable:
    def switch(injector: "LighterInjector", on: bool):
        setattr(injector.ex.faults, name, on_value if on else off_value)
    return switch


class LighterInjector(Injector):
    kinds = (
        FaultKind("tx_429", EVENT, ("status",), _tx_rule(status=429)),
        FaultKind("tx_500", EVENT, ("status",), _tx_rule(status=500)),
        FaultKind("tx_lost", EVENT, ("timeout_ms",), _tx_rule(timeout_ms=1)),
        FaultKind("tx_slow", EVENT, ("latency_ms",), _tx_rule(latency_ms=1500)),
        FaultKind("tx_23000", EVENT, ("code",), _tx_rule(code=LIGHTER.TOO_MANY_REQUESTS[0])),
        FaultKind("tx_23000_disconnect", EVENT, ("code", "disconnect"),
                  _tx_rule(code=LIGHTER.TOO_MANY_REQUESTS[0], disconnect=True)),
        FaultKind("tx_21506", EVENT, ("code",), _tx_rule(code=21506)),
        FaultKind("tx_held_11s", EVENT, ("hold_ms",), _tx_rule(hold_ms=HELD_MS)),
        FaultKind("tx_answer_lost", EVENT, ("answer_lost",), _tx_rule(answer_lost=True)),
        FaultKind("nonce_error", EVENT, ("nonce_errors",), lambda injector, rng: injector.ex.faults.nonce_errors(1)),
        FaultKind("rest_429", EVENT, ("status",), _rest_rule(status=429)),
        FaultKind("rest_500", EVENT, ("status",), _rest_rule(status=500)),
        FaultKind("rest_dropped_5s", EVENT, ("timeout_ms",), _rest_rule(timeout_ms=5000)),
        FaultKind("ws_close", EVENT, ("close_websockets",), lambda injector, rng: injector.close_websockets()),
        FaultKind("book_update_skipped", EVENT, ("skip_book_update",),
                  lambda injector, rng: injector.ex.faults.skip_book_update(injector.venue.market_id)),
        FaultKind("answers_without_id", SPELL, ("answer_ids",), _lighter_attribute("answer_ids", False, True)),
        FaultKind("nonce_error_as_400_text", SPELL, ("nonce_error",),
                  _lighter_attribute("nonce_error", (400, "invalid nonce"), None)),
        FaultKind("rest_index_delay_2s", SPELL, ("rest_index_delay_ms",),
                  _lighter_attribute("rest_index_delay_ms", 2000, 0)),
        FaultKind("error_frames_as_objects", SETTING, ("error_object",),
                  _lighter_attribute("error_object", True, False)),
        FaultKind("next_nonce_lag_350ms", SETTING, ("next_nonce_lag_ms",),
                  _lighter_attribute("next_nonce_lag_ms", 350, 0)),
    )

    def __init__(self, venue: Venue, rates: Dict[str, float]):
        super().__init__(venue, rates)
        faults, state, txs = self.ex.faults, self.ex.state, self.ex.txs
        take, take_nonce_error, take_book_skip, authorize, apply = (
            faults.take, faults.take_nonce_error, faults.take_book_skip, txs._authorize, txs._apply)
        authorizing = []

        def taking(targets):
            rules = take(targets)
            if rules:
                self.attribute(state.requests[-1])
            return rules

        def authorizing_tx(tx, expected_nonce):
            authorizing[:] = [tx]
            return authorize(tx, expected_nonce)

        def taking_nonce_error() -> bool:
            taken = take_nonce_error()
            if taken:
                self.applied["nonce_error"] += 1
                tx = authorizing[0] if authorizing else None
                if tx is not None and tx.tx_type == LIGHTER.TX_TYPE_CREATE_ORDER and self.active:
                    self.faulted_ids.add(str(tx.info.get("ClientOrderIndex")))
            return taken

        def applying(tx, events):
            try:
                return apply(tx, events)
            except LighterError as error:
                if tx.tx_type == LIGHTER.TX_TYPE_CREATE_ORDER:
                    self.refused[str(tx.info.get("ClientOrderIndex"))] = error.code
                raise

        def taking_book_skip(market_id: int) -> bool:
            taken = take_book_skip(market_id)
            self.applied["book_update_skipped"] += taken
            return taken

        faults.take, faults.take_nonce_error, faults.take_book_skip = taking, taking_nonce_error, taking_book_skip
        txs._authorize, txs._apply = authorizing_tx, applying

    def add(self, target: str, **rule) -> Optional[Callable[[], bool]]:
        if target in self.ex.faults.rules:
            return None  # one rule per target: the one armed earlier has not been applied yet
        armed = self.ex.faults.add(target, count=1, **rule)
        return lambda: armed.hits > 0

    def close_websockets(self) -> Callable[[], bool]:
        self.ex.faults.close_websockets()
        return lambda: True


# --- Extended ---------------------------------------------------------------------------------------------------

ORDER_PATH = "/user/order"


def _extended_rest(rule: str, *args) -> Callable:
    def arm(injector: "ExtendedInjector", rng: random.Random):
        seen = injector.seen_rest()
        if not seen:
            return None
        method, pattern = rng.choice(seen)
        return injector.arm(rule, *args, path=pattern, method=method)
    return arm


def _extended_post(rule: str, *args) -> Callable:
    return lambda injector, rng: injector.arm(rule, *args, path=ORDER_PATH, method="POST")


class ExtendedInjector(Injector):
    kinds = (
        FaultKind("post_held_12s", EVENT, ("delay",), _extended_post("delay", 12.0)),
        FaultKind("post_answer_lost_11s", EVENT, ("delay_answer",), _extended_post("delay_answer", 11.0)),
        FaultKind("post_dropped", EVENT, ("drop_next",), _extended_post("drop_next", 1.0)),
        FaultKind("rest_429", EVENT, ("rate_limit_next",), _extended_rest("rate_limit_next")),
        FaultKind("rest_503", EVENT, ("fail_next",), _extended_rest("fail_next", 503)),
        FaultKind("rest_slow_3s", EVENT, ("delay",), _extended_rest("delay", 3.0)),
        FaultKind("stream_close", EVENT, ("close_streams",), lambda injector, rng: injector.close_streams(rng)),
        FaultKind("book_gap", EVENT, ("gap_next_orderbook_delta",),
                  lambda injector, rng: injector.gap(injector.venue.pair)),
        FaultKind("rest_latency_300ms", SPELL, ("latency",),
                  lambda injector, on: setattr(injector.ex.faults, "latency", 0.3 if on else 0.0)),
        FaultKind("stream_latency_500ms", SPELL, ("stream_latency",),
                  lambda injector, on: setattr(injector.ex.faults, "stream_latency", 0.5 if on else 0.0)),
        # The SDK's stream test frame carries no client id on TRADE rows; the default names it externalOrderId.
        FaultKind("trade_rows_without_client_id", SPELL, ("ExchangeState.trade_stream_client_id_field",),
                  lambda injector, on: setattr(injector.ex.state, "trade_stream_client_id_field",
                                               None if on else "externalOrderId")),
        FaultKind("word_error_codes", SETTING, ("string_error_codes",),
                  lambda injector, on: setattr(injector.ex.faults, "string_error_codes", on)),
    )

    def __init__(self, venue: Venue, rates: Dict[str, float]):
        super().__init__(venue, rates)
        faults, state = self.ex.faults, self.ex.state
        rest_action = faults.rest_action

        def acting(method: str, path: str):
            wait, status, answer_delay, drop = action = rest_action(method, path)
            if wait > faults.latency or status is not None or answer_delay > 0 or drop:
                self.attribute(state.requests[-1])
            return action

        def validating(state, account, body, now):
            try:
                return validate_order(state, account, body, now)
            except ExchangeError as error:
                if account.account_id == venue.acct.account_id and isinstance(body, dict) and "id" in body:
                    self.refused[str(body["id"])] = error.code
                raise

        faults.rest_action = acting
        rest_private.validate_order = validating

    def restore(self):
        rest_private.validate_order = validate_order

    def seen_rest(self) -> List[Tuple[str, str]]:
        return sorted({(r.method, id_free(r.path).replace("{id}", "*")) for r in self.ex.state.requests
                       if not self.spared(r)})

    def arm(self, rule: str, *args, path: str, method: str) -> Optional[Callable[[], bool]]:
        if any(armed.pattern == path and armed.method == method for armed in self.ex.faults._rules):
            # One rule per endpoint, as for Lighter: the emulator adds up the holds of every rule a request matches, so
            # two would hold one request for a time no fault kind describes (two post_held_12s: 24 s).
            return None
        getattr(self.ex.faults, rule)(*args, path=path, method=method, count=1)
        armed = self.ex.faults._rules[-1]  # the rule just added (Faults keeps them in order)
        return lambda: armed.remaining == 0

    def close_streams(self, rng: random.Random) -> Callable[[], bool]:
        self.ex.faults.close_streams(rng.choice(("account", "orderbooks", None)))
        return lambda: True

    def gap(self, market: str) -> Callable[[], bool]:
        self.ex.faults.gap_next_orderbook_delta(market)
        return lambda: True


INJECTORS = {"lighter_perpetual": LighterInjector, "extended_perpetual": ExtendedInjector}


def emulator_switches(exchange: str) -> Set[str]:
    """The fault switches an emulator offers: public methods and attributes of its Faults (and Lighter's rule
    fields), less the plumbing."""
    if exchange == "lighter_perpetual":
        faults, rule_fields = LighterFaults(), {f.name for f in dataclasses.fields(FaultRule)}
    else:
        faults, rule_fields = ExtendedFaults(StreamHub()), set()
    methods = {name for name, _ in inspect.getmembers(type(faults), inspect.isfunction) if not name.startswith("_")}
    attributes = {name for name in vars(faults) if not name.startswith("_")}
    return (methods | attributes | rule_fields) - PLUMBING


def uncovered_switches(exchange: str) -> List[str]:
    used = {switch for kind in INJECTORS[exchange].kinds for switch in kind.switches}
    return sorted(emulator_switches(exchange) - used)


def rates_for(exchange: str, default: float, overrides: Dict[str, float]) -> Dict[str, float]:
    names = INJECTORS[exchange].kind_names()
    return {name: overrides.get(name, default) for name in names}
