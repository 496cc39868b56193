"""A trading bot in a process of its own, for the dead man's switch kill test: Hummingbot's clock starts a
lighter_perpetual connector (endpoints from the environment), places the orders it is given and reports their ids on
one stdout line, then runs until it is killed.

    python -m test.hummingbot.connector.derivative.lighter_perpetual.dead_man_switch_child < CONFIG_JSON

CONFIG_JSON (one line on stdin, never on the command line, since it holds the key): private_key, key_index, account,
window (seconds), min_seconds (the shortest window the test's emulator takes), pair, orders ([[is_buy, amount, price],
...]).
"""
import asyncio
import json
import sys
import time
from decimal import Decimal

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import OrderState

READY_TIMEOUT = 60.0


async def wait_until(condition, what: str):
    deadline = time.monotonic() + READY_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def main():
    config = json.loads(sys.stdin.readline())
    # Lighter schedules no cancel-all sooner than 5 minutes ahead; the test's emulator takes seconds, and so does the
    # connector here. Nothing else differs from a real bot.
    CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS = config["min_seconds"]
    CONSTANTS.DEAD_MAN_SWITCH_CLOCK_MARGIN = 0
    pair = config["pair"]
    connector = LighterPerpetualDerivative(
        lighter_perpetual_api_private_key=config["private_key"], lighter_perpetual_api_key_index=config["key_index"],
        lighter_perpetual_account_index=config["account"], lighter_perpetual_account_tier="Premium",
        lighter_perpetual_dead_man_switch_seconds=config["window"], trading_pairs=[pair])
    clock = Clock(ClockMode.REALTIME)
    clock.add_iterator(connector)
    with clock:
        runner = asyncio.ensure_future(clock.run())
        await wait_until(lambda: connector.ready, "the connector to be ready")
        place = {True: connector.buy, False: connector.sell}
        order_ids = [place[is_buy](pair, Decimal(amount), OrderType.LIMIT, Decimal(price),
                                   position_action=PositionAction.OPEN)
                     for is_buy, amount, price in config["orders"]]
        await wait_until(lambda: all(getattr(connector.in_flight_orders.get(order_id), "current_state", None)
                                     == OrderState.OPEN for order_id in order_ids), "the orders to be open")
        print(json.dumps({"orders": order_ids}), flush=True)
        await runner


if __name__ == "__main__":
    asyncio.run(main())
