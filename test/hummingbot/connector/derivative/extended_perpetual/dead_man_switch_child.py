"""A trading bot in a process of its own, for the dead man's switch kill test: Hummingbot's clock starts an
extended_perpetual connector (endpoints from the environment), places the orders it is given and reports their ids on
one stdout line, then runs until it is killed.

    python -m test.hummingbot.connector.derivative.extended_perpetual.dead_man_switch_child < CONFIG_JSON

CONFIG_JSON (one line on stdin, never on the command line, since it holds the keys): api_key, stark_private_key,
stark_public_key, vault, window (seconds), pair, orders ([[is_buy, amount, price], ...]).
"""
import asyncio
import json
import sys
import time
from decimal import Decimal

from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
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
    pair = config["pair"]
    connector = ExtendedPerpetualDerivative(
        config["api_key"], config["stark_private_key"], config["stark_public_key"], config["vault"],
        extended_perpetual_dead_man_switch_seconds=config["window"], trading_pairs=[pair])
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
