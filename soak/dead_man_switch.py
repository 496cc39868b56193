"""The dead man's switch armed on both connectors for a long run: requests a minute per endpoint, orders surviving.

    python -m soak.dead_man_switch [--minutes 10] [--orders 2]

Both emulators run in this process with the exchanges' real switch rules (Lighter schedules a cancel-all 5 minutes
ahead at least; Extended counts down from the last renewal); both connectors run on one Hummingbot clock with their
default windows (Lighter 300 s on a Standard account, Extended 60 s) and a few resting orders each, far from the mid.
No order is placed or cancelled after the start: every request of the run is the connectors' own background work
(status polls, balance and funding reads, switch renewals). Printed per venue: requests a minute per endpoint over the
idle part of the run (from the orders being open to the end), the switch's renewals among them, the busiest rolling
minute, the least time the exchange's cancel deadline was ahead of the clock, and whether every order is still open on
the exchange and in Hummingbot. Exits 1 when an order did not survive or Lighter's REST requests went past a Standard
account's 60 a minute.
"""
import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Dict, List, Optional, Tuple

from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import OrderState
from soak.run import fresh_session, until
from soak.venues import ExtendedVenue, LighterVenue, Venue, apply_env, id_free, restore_env

READY_TIMEOUT_S = 90
SAMPLE_INTERVAL_S = 1.0
# A Standard Lighter account: 60 REST requests and 60 transaction requests a minute (docs rate-limits page).
LIGHTER_STANDARD_PER_MINUTE = 60


class Watch:
    """One venue's connector and the truth it is checked against."""

    def __init__(self, venue: Venue):
        self.venue = venue
        self.connector = None  # built once the venue's emulator and account exist
        self.order_ids: List[str] = []
        self.least_headroom_s: Optional[float] = None

    @property
    def name(self) -> str:
        return self.venue.name

    def deadline_s(self) -> Optional[float]:
        """When the exchange cancels every order of the account unless the switch is renewed (unix seconds)."""
        raise NotImplementedError

    def requests(self) -> List[Tuple[float, str, bool]]:
        """(received, unix seconds; endpoint; is a switch renewal) for every request or frame the exchange saw."""
        raise NotImplementedError

    def budgeted(self, endpoint: str) -> bool:
        """Whether the endpoint counts in the account's request budget."""
        raise NotImplementedError

    def live_on_exchange(self) -> List[str]:
        return [order.client_id for order in self.venue.orders() if order.kind == "live"]

    def sample(self):
        deadline = self.deadline_s()
        if deadline is None:
            return
        headroom = deadline - time.time()
        if self.least_headroom_s is None or headroom < self.least_headroom_s:
            self.least_headroom_s = headroom


class LighterWatch(Watch):
    def __init__(self):
        super().__init__(LighterVenue(tier="Standard"))

    def deadline_s(self) -> Optional[float]:
        at_ms = self.venue.ex.state.accounts[self.venue.account].cancel_all_time
        return at_ms / 1000 if at_ms else None

    def requests(self) -> List[Tuple[float, str, bool]]:
        from emulator.lighter import constants as LIGHTER
        seen = []
        for request in self.venue.ex.state.requests:
            if request.transport == "rest":
                endpoint, fields = f"{request.method} {request.path}", request.form
            else:
                endpoint = f"ws {request.method}"
                fields = request.form.get("data") if isinstance(request.form.get("data"), dict) else {}
            tx_types = ([fields["tx_type"]] if "tx_type" in fields
                        else json.loads(fields["tx_types"]) if "tx_types" in fields else [])
            renewal = any(str(tx_type) == str(LIGHTER.TX_TYPE_CANCEL_ALL_ORDERS) for tx_type in tx_types)
            seen.append((request.received_ms / 1000, endpoint, renewal))
        return seen

    def budgeted(self, endpoint: str) -> bool:
        # REST requests draw from the account's pool; transactions sent on the WebSocket draw from the transaction pool
        # (counted apart below), other WebSocket frames from the per-IP message budget.
        return not endpoint.startswith("ws ")


class ExtendedWatch(Watch):
    def __init__(self):
        super().__init__(ExtendedVenue(seed=1))

    def deadline_s(self) -> Optional[float]:
        at_ms = self.venue.acct.dead_man_deadline_ms
        return at_ms / 1000 if at_ms else None

    def requests(self) -> List[Tuple[float, str, bool]]:
        from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
        return [(record.ts / 1000, f"{record.method} {id_free(record.path)}",
                 record.method == "POST" and record.path == CONSTANTS.DEAD_MAN_SWITCH_PATH)
                for record in self.venue.ex.state.requests if record.account_id in (None, self.venue.acct.account_id)]

    def budgeted(self, endpoint: str) -> bool:
        return True


def busiest_minute(stamps: List[float]) -> int:
    stamps = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= 60:
            start += 1
        most = max(most, end - start + 1)
    return most


def report(watch: Watch, since: float, until_s: float) -> Dict[str, float]:
    minutes = (until_s - since) / 60
    requests = [(at, endpoint, renewal) for at, endpoint, renewal in watch.requests() if since <= at <= until_s]
    by_endpoint = Counter(endpoint for _, endpoint, _ in requests)
    renewals = [at for at, _, renewal in requests if renewal]
    budgeted = [at for at, endpoint, _ in requests if watch.budgeted(endpoint)]
    print(f"\n{watch.name}: {minutes:.1f} idle minutes, {len(watch.order_ids)} resting orders")
    for endpoint, count in by_endpoint.most_common():
        print(f"  {endpoint:<45} {count:>5}  {count / minutes:7.2f}/min")
    figures = {"budgeted_per_min": len(budgeted) / minutes, "budgeted_busiest_minute": busiest_minute(budgeted),
               "renewals_per_min": len(renewals) / minutes}
    print(f"  switch renewals (requests or frames)          {len(renewals):>5}  {figures['renewals_per_min']:7.2f}/min")
    print(f"  requests in the account's budget              {len(budgeted):>5}  "
          f"{figures['budgeted_per_min']:7.2f}/min (busiest rolling minute {figures['budgeted_busiest_minute']})")
    gaps = [later - earlier for earlier, later in zip(renewals, renewals[1:])]
    if gaps:
        print(f"  renewal gaps: {min(gaps):.1f} to {max(gaps):.1f} s")
    if watch.least_headroom_s is not None:
        print(f"  least time the exchange's cancel deadline was ahead: {watch.least_headroom_s:.1f} s")
    return figures


async def place_resting(watch: Watch, count: int):
    venue, connector = watch.venue, watch.connector
    for index in range(count):
        is_buy = index % 2 == 0
        place = connector.buy if is_buy else connector.sell
        watch.order_ids.append(place(venue.pair, venue.min_size, OrderType.LIMIT, venue.far_price(is_buy),
                                     position_action=PositionAction.OPEN))
    await until(lambda: all(getattr(connector.in_flight_orders.get(order_id), "current_state", None)
                            == OrderState.OPEN for order_id in watch.order_ids), 30, f"{watch.name} orders open")


def survivors(watch: Watch) -> Tuple[List[str], List[str]]:
    """The run's orders open on the exchange, and open in Hummingbot."""
    live = set(watch.live_on_exchange())
    tracked = [order_id for order_id in watch.order_ids
               if getattr(watch.connector.in_flight_orders.get(order_id), "current_state", None) == OrderState.OPEN]
    return [order_id for order_id in watch.order_ids if order_id in live], tracked


async def run(minutes: float, orders: int) -> int:
    await fresh_session()
    watches = [LighterWatch(), ExtendedWatch()]
    previous_env = {}
    clock = Clock(ClockMode.REALTIME)
    runner: Optional[asyncio.Task] = None
    failures: List[str] = []
    try:
        for watch in watches:
            await watch.venue.start()
            previous_env.update(apply_env(watch.venue.env))
        for watch in watches:
            watch.connector = watch.venue.connector()
            clock.add_iterator(watch.connector)
        with clock:
            runner = asyncio.get_running_loop().create_task(clock.run())
            await until(lambda: all(watch.connector.ready for watch in watches), READY_TIMEOUT_S,
                        "both connectors ready")
            for watch in watches:
                await place_resting(watch, orders)
            since = time.time()
            print(f"Both connectors ready with {orders} resting orders each; running {minutes:g} minutes "
                  f"(Lighter window {watch_window(watches[0])} s, Extended window {watch_window(watches[1])} s).",
                  flush=True)
            end = since + minutes * 60
            while time.time() < end:
                for watch in watches:
                    watch.sample()
                await asyncio.sleep(SAMPLE_INTERVAL_S)
            until_s = time.time()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            for watch in watches:
                figures = report(watch, since, until_s)
                on_exchange, tracked = survivors(watch)
                print(f"  orders open on the exchange {len(on_exchange)}/{len(watch.order_ids)}, "
                      f"open in Hummingbot {len(tracked)}/{len(watch.order_ids)}")
                if len(on_exchange) < len(watch.order_ids) or len(tracked) < len(watch.order_ids):
                    failures.append(f"{watch.name} orders did not all survive")
                if isinstance(watch, LighterWatch):
                    over = figures["budgeted_busiest_minute"] > LIGHTER_STANDARD_PER_MINUTE
                    print(f"  Standard tier ({LIGHTER_STANDARD_PER_MINUTE} REST requests a minute): "
                          f"{'FAIL' if over else 'PASS'}")
                    if over:
                        failures.append("Lighter went past a Standard account's request budget")
        # Leaving the clock stopped both connectors as Hummingbot does (a clean stop disarms the switches).
        await until(lambda: all(watch.deadline_s() is None for watch in watches), 30, "both switches disarmed")
    finally:
        if runner is not None and not runner.done():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        for watch in watches:
            await watch.venue.stop()
        restore_env(previous_env)
    print(f"\nFAIL: {'; '.join(failures)}." if failures else "\nPASS: every order survived, within the budget.")
    return 1 if failures else 0


def watch_window(watch: Watch) -> int:
    return watch.connector._dead_man_switch_seconds


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak.dead_man_switch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="idle minutes after the orders rest (default 10)")
    parser.add_argument("--orders", type=int, default=2, help="resting orders per venue (default 2)")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.minutes, args.orders))


if __name__ == "__main__":
    sys.exit(main())
