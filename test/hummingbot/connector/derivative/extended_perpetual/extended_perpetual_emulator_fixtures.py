"""A running Extended emulator on loopback and a started connector pointed at it, for end-to-end tests."""
import asyncio
import os
import time
from decimal import Decimal
from typing import Callable, Dict, List
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

from emulator.extended import ExtendedEmulator
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import InFlightOrder
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_test_helpers import IsolatedConnections

PAIR = "BTC-USD"
TICK = Decimal("1")
LOGGED_EVENTS = (MarketEvent.BuyOrderCreated, MarketEvent.SellOrderCreated, MarketEvent.OrderFilled,
                 MarketEvent.OrderCancelled, MarketEvent.OrderFailure, MarketEvent.BuyOrderCompleted,
                 MarketEvent.SellOrderCompleted, MarketEvent.FundingPaymentCompleted)


async def _no_pause(delay: float = 0):
    await asyncio.sleep(0)


class EmulatorConnectorTestCase(IsolatedConnections, IsolatedAsyncioTestCase):
    collateral = Decimal("100000")
    emulator_kwargs: Dict = {}

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex = ExtendedEmulator(port=0, rng_seed=11, hourly_funding=False, **self.emulator_kwargs)
        await self.ex.start()
        self.acct = self.ex.create_account(collateral=self.collateral)
        self.env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                           CONSTANTS.WSS_URL_ENV_VAR: self.ex.stream_url})
        self.env.start()
        self.connector = self.new_connector()
        # Hummingbot paces order book initialisation by a second per pair; nothing to wait for here.
        self.connector.order_book_tracker._sleep = _no_pause
        self.events: Dict[MarketEvent, EventLogger] = {}
        for event in LOGGED_EVENTS:
            self.events[event] = EventLogger()
            self.connector.add_listener(event, self.events[event])
        self.connector._set_current_timestamp(time.time())
        await self.connector.start_network()
        await self.wait_for(lambda: self.connector.ready, timeout=10)

    async def asyncTearDown(self):
        await self.connector.stop_network()
        await self.ex.stop()
        self.env.stop()
        await super().asyncTearDown()

    def new_connector(self, api_key: str = None, private_key: str = None, public_key: str = None,
                      trading_required: bool = True, **settings) -> ExtendedPerpetualDerivative:
        return ExtendedPerpetualDerivative(
            api_key if api_key is not None else self.acct.api_key,
            private_key if private_key is not None else self.acct.stark_private_key,
            public_key if public_key is not None else self.acct.stark_public_key,
            self.acct.vault, trading_pairs=[PAIR], trading_required=trading_required, **settings)

    @staticmethod
    async def wait_for(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(interval)

    def log(self, event: MarketEvent) -> List:
        return self.events[event].event_log

    def best(self, side: str) -> Decimal:
        return self.ex.state.books[PAIR].best(side)

    def inside_bid(self) -> Decimal:
        """A buy price one tick above the best bid, still below the best ask: it rests at the top of the book."""
        return self.best("BUY") + TICK

    async def place(self, is_buy: bool, amount: str, order_type: OrderType = OrderType.LIMIT, price: Decimal = None,
                    action: PositionAction = PositionAction.OPEN, state: Callable[[InFlightOrder], bool] = None
                    ) -> str:
        """Places through the connector and waits for Extended's answer (or for `state`)."""
        place = self.connector.buy if is_buy else self.connector.sell
        kwargs = {"price": price} if price is not None else {}
        order_id = place(PAIR, Decimal(amount), order_type, position_action=action, **kwargs)
        await self.wait_for(lambda: self.connector._order_tracker.fetch_order(order_id) is not None
                            and (state or (lambda o: o.exchange_order_id is not None or o.is_done))(
                                self.connector._order_tracker.fetch_order(order_id)))
        return order_id

    def requests(self, method: str, path: str) -> List:
        return [r for r in self.ex.state.requests if r.method == method and r.path == path]
