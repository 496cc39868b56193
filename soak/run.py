"""One soak run: an exchange, a seed, a number of orders, the fault rates; returns its figures."""
import asyncio
import itertools
import logging
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Callable, Dict, List, Optional

from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from soak.checks import INVARIANTS, Journal, check, exchange_outcomes, healthy, in_transition, signed_position
from soak.faults import INJECTORS, uncovered_switches
from soak.network import NetworkWatch
from soak.venues import Venue, apply_env, make_venue, restore_env

# Workload actions and their weights per step.
ACTIONS = (("burst", 40), ("cancel", 25), ("take", 22), ("close", 8), ("leverage", 5))
LEVERAGES = (2, 3, 5, 10, 20)
# Orders rest between these fractions of the mid away from it; the taker sweeps down to TAKER_REACH, short of the
# maker ladder (venues.MAKER_HALF_SPREAD).
QUOTE_BAND = (0.0002, 0.003)
TAKER_REACH = Decimal("0.004")
STEP_PAUSE_S = (0.3, 1.2)
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
POLL_S = 0.5
NUDGE_EVERY = 4  # polls: the book moves a little while the run waits, as a real one does


@dataclass
class RunResult:
    exchange: str
    seed: int
    orders: int = 0
    fills: int = 0
    injected: Counter = field(default_factory=Counter)
    mismatches: Counter = field(default_factory=Counter)
    examples: Dict[str, List[str]] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)  # the exchange's outcome of each submitted order
    refusals: Counter = field(default_factory=Counter)  # the exchange's error codes for the orders it refused
    duration_s: float = 0.0
    quiesce_s: float = 0.0
    healed: bool = False
    uncovered: List[str] = field(default_factory=list)
    checks: int = 0  # network checks Hummingbot made
    restarts: int = 0  # every restart Hummingbot's network check caused, needless or not (see soak.network)
    network: str = ""  # the network check's figures, in a sentence

    @property
    def failed(self) -> bool:
        return any(self.mismatches[name] for name in INVARIANTS)


async def fresh_session():
    """Hummingbot shares one aiohttp session per process; one left by an earlier run belongs to a closed loop."""
    factory = ConnectionsFactory()
    try:
        await factory.close()
    except RuntimeError:
        factory._shared_client = factory._ws_independent_session = None


async def until(condition: Callable[[], bool], timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        await asyncio.sleep(0.05)


class Workload:
    """Randomized market making through the connector's public API, seeded."""

    def __init__(self, venue: Venue, connector, rng: random.Random):
        self.venue, self.connector, self.rng = venue, connector, rng
        self.submitted: List[str] = []

    def size(self, low: Decimal, high: Decimal) -> Decimal:
        amount = Decimal(str(self.rng.uniform(float(low), float(high))))
        return max(low, amount.quantize(self.venue.size_step, rounding=ROUND_DOWN))

    def place_near_mid(self):
        venue, rng = self.venue, self.rng
        is_buy = rng.random() < 0.5
        away = Decimal(str(rng.uniform(*QUOTE_BAND)))
        price = venue.quantize(venue.mid * (1 - away if is_buy else 1 + away))
        order_type = rng.choice((OrderType.LIMIT, OrderType.LIMIT_MAKER))
        place = self.connector.buy if is_buy else self.connector.sell
        self.submitted.append(place(venue.pair, self.size(venue.min_size, venue.max_size), order_type, price,
                                    position_action=PositionAction.OPEN))

    def cancel_some(self):
        cancellable = [order.client_order_id for order in self.connector.in_flight_orders.values()
                       if order.is_open and not order.is_pending_cancel_confirmation]
        for client_id in self.rng.sample(cancellable, min(len(cancellable), self.rng.randint(1, 5))):
            self.connector.cancel(self.venue.pair, client_id)

    def take(self):
        venue, rng = self.venue, self.rng
        taker_buys = rng.random() < 0.5
        worst = venue.quantize(venue.mid * (1 + TAKER_REACH if taker_buys else 1 - TAKER_REACH))
        venue.take(taker_buys, self.size(venue.min_size, venue.max_size * 3), worst)

    def close_position(self):
        position = signed_position(self.connector, self.venue.pair)
        amount = abs(position).quantize(self.venue.size_step, rounding=ROUND_DOWN)
        if amount < self.venue.min_size:
            return
        place = self.connector.sell if position > 0 else self.connector.buy
        self.submitted.append(place(self.venue.pair, amount, OrderType.MARKET, Decimal("NaN"),
                                    position_action=PositionAction.CLOSE))

    async def run(self, orders: int, injector, fault_rng: random.Random):
        while len(self.submitted) < orders:
            injector.step(fault_rng)
            action = self.rng.choices([name for name, _ in ACTIONS], [weight for _, weight in ACTIONS])[0]
            if action == "burst":
                for _ in range(min(self.rng.randint(1, 20), orders - len(self.submitted))):
                    self.place_near_mid()
            elif action == "cancel":
                self.cancel_some()
            elif action == "take":
                self.take()
            elif action == "close":
                self.close_position()
            else:
                self.connector.set_leverage(self.venue.pair, self.rng.choice(LEVERAGES))
            await asyncio.sleep(self.rng.uniform(*STEP_PAUSE_S))
        # A last sweep of both sides, so even a short run fills what still rests near the mid.
        for taker_buys in (True, False):
            self.venue.take(taker_buys, self.venue.max_size * 20, self.venue.quantize(
                self.venue.mid * (1 + TAKER_REACH if taker_buys else 1 - TAKER_REACH)))


async def run_once(exchange: str, seed: int, orders: int, rates: Dict[str, float], quiesce_timeout: float,
                   log_dir: Optional[Path] = None, lighter_tier: str = "Premium",
                   check_interval: Optional[float] = None, spare_network_check: bool = False) -> RunResult:
    """check_interval: seconds between Hummingbot's network checks (None: Hummingbot's own, 10 s);
    spare_network_check: the REST fault kinds leave the check's endpoint alone, so any restart is the connector's."""
    result = RunResult(exchange, seed, uncovered=uncovered_switches(exchange))
    await fresh_session()
    venue = make_venue(exchange, seed, lighter_tier)
    await venue.start()
    previous_env = apply_env(venue.env)
    injector = INJECTORS[exchange](venue, rates)
    scratch = None
    if log_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="soak-")
        log_dir = Path(scratch.name)
    log_path = Path(log_dir) / f"soak-{exchange}-{seed}.log"
    handler = logging.FileHandler(log_path, mode="w")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    connector = venue.connector()
    journal = Journal(connector)
    if check_interval is not None:
        connector.check_network_interval = check_interval
    if spare_network_check:
        injector.spared = lambda record: venue.is_network_check_request(record, connector)
    network = NetworkWatch(venue, connector, injector)
    # As Hummingbot runs a connector: on a clock ticking every second, whose start begins Hummingbot's network check
    # loop, which starts the connector's network once a check succeeds.
    clock = Clock(ClockMode.REALTIME)
    clock.add_iterator(connector)
    runner = None
    started = time.monotonic()
    try:
        with clock:
            runner = asyncio.get_running_loop().create_task(clock.run())
            await until(lambda: connector.ready, READY_TIMEOUT_S, f"{exchange} connector ready")
            workload = Workload(venue, connector, random.Random(seed))
            injector.begin()
            try:
                # The faults draw from their own stream: the same seed sends the same workload whatever the rates.
                await workload.run(orders, injector, random.Random(f"faults-{seed}"))
            finally:
                injector.end()
            calm = time.monotonic()
            for poll in itertools.count():
                result.healed = not in_transition(connector) and healthy(venue, connector, journal, injector,
                                                                         workload.submitted)
                if result.healed or time.monotonic() - calm > quiesce_timeout:
                    break
                if poll % NUDGE_EVERY == 0:
                    venue.nudge_book()
                await asyncio.sleep(POLL_S)
            result.quiesce_s = time.monotonic() - calm
            handler.flush()
            result.mismatches, result.examples = check(venue, connector, journal, injector, workload.submitted,
                                                       log_path, network.needless)
            result.orders = len(workload.submitted)
            result.fills = len(venue.fills())
            result.injected = injector.injected()
            result.requests = venue.request_kinds()
            outcome, _ = exchange_outcomes(venue, injector, workload.submitted)
            result.outcomes = Counter(outcome[client_id] for client_id in workload.submitted)
            result.refusals = Counter(injector.refused.values())
            result.checks, result.restarts, result.network = network.checks, network.restarts, network.summary()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    finally:
        if runner is not None and not runner.done():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        try:
            # Leaving the clock stopped the connector as Hummingbot stops it: marked STOPPED, its network stopped in a
            # task, awaited here before the emulator goes.
            await asyncio.wait_for(network.stopped.wait(), STOP_TIMEOUT_S)
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
            handler.close()
            restore_env(previous_env)
            injector.restore()
            await venue.stop()
            await ConnectionsFactory().close()
            if scratch is not None:
                scratch.cleanup()
    result.duration_s = time.monotonic() - started
    return result
