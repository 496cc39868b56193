"""Orders the connector refuses before signing, against the local Lighter emulator with the real SDK signer: values the
signer's fields cannot hold, prices outside Lighter's fat-finger band, unknown pairs, a connector not connected yet;
and the warnings of a running connector that cannot reach Lighter."""
import asyncio
import logging
import os
import socket
import time
from decimal import Decimal
from typing import Callable
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import (
    LogCollector,
    fresh_shared_session,
)

PAIR = "ETH-USDC"
MARKET = 0
# Tick counts above 2^32 - 1 wrapped in the signer: 50,000,000.00 (5,000,000,000 ticks) was signed as 7,050,327.04.
WRAPPING_PRICE = Decimal("50000000")
MAX_PRICE = Decimal("42949672.95")  # (2^32 - 1) ticks at 2 decimals


class LighterRefusalTests(IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        env.start()
        self.addCleanup(env.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        for level in range(3):
            self.ex.place_order(maker, MARKET, is_ask=False, size=Decimal("2"), price=Decimal(2500 - level))
            self.ex.place_order(maker, MARKET, is_ask=True, size=Decimal("2"), price=Decimal(2505 + level))
        self.account, self.key_index, self.private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("100000"), api_key_index=4)
        self.logs = LogCollector()
        hummingbot_logger = logging.getLogger("hummingbot")
        hummingbot_logger.addHandler(self.logs)
        self.addCleanup(hummingbot_logger.removeHandler, self.logs)
        self.connectors = []
        self.addAsyncCleanup(self.stop_connectors)

    async def stop_connectors(self):
        for connector in self.connectors:
            await connector.stop_network()
        await fresh_shared_session()

    def new_connector(self, **settings) -> LighterPerpetualDerivative:
        connector = LighterPerpetualDerivative(
            lighter_perpetual_api_private_key=self.private_key, lighter_perpetual_api_key_index=self.key_index,
            lighter_perpetual_account_index=self.account, trading_pairs=[PAIR], **settings)
        self.failures = EventLogger()
        connector.add_listener(MarketEvent.OrderFailure, self.failures)
        self.created = EventLogger()
        for event in (MarketEvent.BuyOrderCreated, MarketEvent.SellOrderCreated):
            connector.add_listener(event, self.created)
        self.connectors.append(connector)
        return connector

    async def started_connector(self, **settings) -> LighterPerpetualDerivative:
        connector = self.new_connector(**settings)
        await connector.start_network()
        await self.until(lambda: connector.ready and connector.get_funding_info(PAIR) is not None, connector)
        await self.until(lambda: PAIR in connector.order_books and connector.order_books[PAIR].snapshot_uid > 0,
                         connector)
        return connector

    async def until(self, condition: Callable[[], bool], connector: LighterPerpetualDerivative, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while True:
            connector.tick(time.time())
            try:
                if condition():
                    return
            except KeyError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"condition not met within {timeout} s")
            await asyncio.sleep(0.01)

    def sends(self) -> int:
        """Transactions that reached the emulator, over REST or the WebSocket."""
        return len([r for r in self.ex.state.requests if "sendtx" in f"{r.path} {r.method}".lower()])

    def warnings(self):
        return [record for record in self.logs.records if record.levelno >= logging.WARNING]

    async def refused(self, connector, is_buy: bool, amount: str, price: Decimal, pair: str = PAIR,
                      order_type: OrderType = OrderType.LIMIT) -> str:
        """Places an order the connector must refuse: one failure event, one WARNING, nothing sent."""
        sends = self.sends()
        place = connector.buy if is_buy else connector.sell
        order_id = place(pair, Decimal(amount), order_type, price, position_action=PositionAction.OPEN)
        await self.until(lambda: self.failures.event_log, connector)
        await asyncio.sleep(0.05)
        [failure] = self.failures.event_log
        self.assertEqual(order_id, failure.order_id)
        [warning] = self.warnings()
        self.assertIn(failure.error_message, warning.getMessage())
        self.assertNotIn("Check API key", self.logs.text())
        self.assertEqual(sends, self.sends())
        self.assertEqual([], self.created.event_log)
        return failure.error_message

    # --- signed field ranges ----------------------------------------------------------------------------------------

    async def test_a_price_whose_tick_count_would_wrap_is_refused_not_signed_as_another_price(self):
        connector = await self.started_connector()
        message = await self.refused(connector, False, "0.01", WRAPPING_PRICE)
        # Hummingbot quantizes the price to the market's 2 decimals before the connector sees it.
        self.assertEqual("Price 50000000.00 is outside what Lighter can sign for ETH-USDC: with 2 price decimals it "
                         "must be 0.01 to 42949672.95.", message)
        self.assertEqual([], list(self.ex.state.accounts[self.account].active_orders.values()))

    async def test_the_largest_price_the_field_holds_is_signed_exactly(self):
        connector = await self.started_connector()
        order_id = connector.sell(PAIR, Decimal("0.01"), OrderType.LIMIT_MAKER, MAX_PRICE,
                                  position_action=PositionAction.OPEN)
        await self.until(lambda: self.created.event_log or self.failures.event_log, connector)
        self.assertEqual([], self.failures.event_log)
        [order] = self.ex.state.accounts[self.account].active_orders.values()
        self.assertEqual((int(order_id), 2 ** 32 - 1), (order.client_order_index, order.price))

    async def test_one_tick_above_the_largest_price_is_refused(self):
        connector = await self.started_connector()
        message = await self.refused(connector, False, "0.01", MAX_PRICE + Decimal("0.01"))
        self.assertIn("42949672.96 is outside what Lighter can sign", message)

    # --- fat-finger band --------------------------------------------------------------------------------------------

    async def test_a_buy_far_above_the_market_is_refused_with_the_band_and_its_reference(self):
        connector = await self.started_connector()
        message = await self.refused(connector, True, "0.01", Decimal("250000"))
        # min(mark 2500, best ask 2505) x 1.05
        self.assertEqual("Buy price 250000.00 is above Lighter's fat-finger limit for ETH-USDC: at most 5% over the "
                         "mark price 2500.00, so at most 2625.00.", message)

    async def test_a_sell_far_below_the_market_is_refused(self):
        connector = await self.started_connector()
        message = await self.refused(connector, False, "2", Decimal("25"))
        # max(mark 2500, best bid 2500) x 0.95
        self.assertIn("at least 2375.00", message)

    async def test_the_band_edge_is_sent_and_one_tick_beyond_is_refused(self):
        connector = await self.started_connector()
        await self.refused(connector, True, "0.01", Decimal("2625.01"))
        self.failures.clear()
        self.logs.records.clear()
        order_id = connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal("2625.00"),
                                 position_action=PositionAction.OPEN)
        await self.until(lambda: self.created.event_log or self.failures.event_log, connector)
        self.assertEqual([], self.failures.event_log)
        self.assertEqual(order_id, self.created.event_log[0].order_id)

    # --- unknown pair, not connected --------------------------------------------------------------------------------

    async def test_an_unknown_pair_fails_with_a_sentence_naming_it(self):
        connector = await self.started_connector()
        message = await self.refused(connector, True, "1", Decimal("10"), pair="FOO-USDC")
        self.assertEqual("FOO-USDC is not a Lighter perpetual market; the order was not sent.", message)
        self.assertNotIn("Unhandled error", self.logs.text())

    async def test_an_order_before_the_markets_are_loaded_says_the_connector_is_not_connected(self):
        connector = self.new_connector()
        message = await self.refused(connector, True, "0.01", Decimal("2400"))
        self.assertEqual("The Lighter connector is not connected yet (its markets are not loaded), so the ETH-USDC "
                         "order was not sent.", message)
        self.assertEqual(0, len([r for r in self.ex.state.requests if r.transport == "rest"]))

    # --- maximum order age ------------------------------------------------------------------------------------------

    async def test_orders_the_standard_rate_budget_has_no_room_for_fail_unsent_at_their_maximum_age(self):
        max_age = 0.5
        connector = await self.started_connector(lighter_perpetual_account_tier="Standard",
                                                 lighter_perpetual_max_order_age_seconds=str(max_age))

        def settled(order_id: str) -> bool:
            order = connector.in_flight_orders.get(order_id)
            return ((order is not None and order.current_state == OrderState.OPEN)
                    or any(event.order_id == order_id for event in self.failures.event_log))

        # One order at a time until Standard's 60 requests a minute (start-up's reads included) leave no room.
        placed = []
        while not self.failures.event_log:
            self.assertLess(len(placed), 60, "the budget never ran out")
            placed.append(connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal(2450) - len(placed),
                                        position_action=PositionAction.OPEN))
            await self.until(lambda: settled(placed[-1]), connector)
        sends = self.sends()
        burst = [connector.buy(PAIR, Decimal("0.01"), OrderType.LIMIT, Decimal(2440) - Decimal(i) / 10,
                               position_action=PositionAction.OPEN) for i in range(500)]
        # A failed order leaves Hummingbot's tracking.
        await self.until(lambda: not connector._order_burst and not any(
            order_id in connector.in_flight_orders for order_id in burst), connector, timeout=30)
        self.assertEqual(sends, self.sends())
        # Hummingbot's EventLogger keeps the last 50 events: 50 of the burst's failures.
        failures = {event.order_id: event.error_message for event in self.failures.event_log}
        self.assertEqual(50, len(set(burst) & set(failures)))
        for message in failures.values():
            self.assertRegex(message, r"^Not sent \(rate limit\): the order was still waiting for room in the rate "
                                      r"budget \d+\.\d s after it was placed, its maximum age "
                                      r"\(max_order_age_seconds 0\.5\)\.$")
        # Each failed once it was as old as its maximum age (counted from the strategy's call), not before. How much
        # later depends on how fast Hummingbot starts 500 orders and reports 500 failures on this machine.
        ages = [float(message.split("budget ")[1].split(" s")[0]) for message in failures.values()]
        self.assertGreaterEqual(min(ages), max_age)
        # One sentence each, no traceback (Hummingbot's own line would add one and "Check API key and network
        # connection"; in tests it logs that line below WARNING).
        said = [record.getMessage() for record in self.warnings() if "failed: Not sent (rate limit)" in
                record.getMessage()]
        self.assertEqual(len(burst) + 1, len(said))  # and the order that found the budget spent
        self.assertTrue(all(record.exc_info is None for record in self.logs.records))
        open_orders = [order for order in connector.in_flight_orders.values() if order.is_open]
        self.assertEqual(len(open_orders), len(self.ex.state.accounts[self.account].active_orders))

    async def test_a_maximum_age_outside_its_range_is_refused_with_one_sentence(self):
        for value in ("0", "-1", "601", "soon"):
            with self.subTest(value=value), self.assertRaises(ValueError) as refused:
                self.new_connector(lighter_perpetual_max_order_age_seconds=value)
            self.assertEqual("The maximum order age must be a number of seconds above 0 and at most 600, or empty "
                             "for 5.", str(refused.exception))


class LighterUnreachableTests(IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        # Nothing listens on this port once the probe is closed.
        self.url = f"http://127.0.0.1:{self.port}"
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.url,
                                      CONSTANTS.WSS_URL_ENV_VAR: f"ws://127.0.0.1:{self.port}/stream"})
        env.start()
        self.addCleanup(env.stop)
        self.logs = LogCollector()
        hummingbot_logger = logging.getLogger("hummingbot")
        hummingbot_logger.addHandler(self.logs)
        self.addCleanup(hummingbot_logger.removeHandler, self.logs)
        self.addCleanup(hummingbot_logger.setLevel, hummingbot_logger.level)
        hummingbot_logger.setLevel(logging.INFO)
        self.addAsyncCleanup(fresh_shared_session)

    def warnings(self):
        return [record.getMessage() for record in self.logs.records if record.levelno >= logging.WARNING]

    async def test_unreachable_exchange_is_said_at_once_then_every_30_seconds_and_its_return_once(self):
        connector = LighterPerpetualDerivative(trading_pairs=[PAIR], trading_required=False)
        now = [1_000_000.0]
        connector._time = lambda: now[0]

        started = time.monotonic()
        self.assertEqual(NetworkStatus.NOT_CONNECTED, await connector.check_network())
        self.assertLess(time.monotonic() - started, 4)
        self.assertEqual([f"Cannot reach Lighter at {self.url}: ClientConnectorError; no orders can be placed "
                          f"until it answers."], self.warnings())

        for elapsed in (10, 20, 29):
            now[0] = 1_000_000.0 + elapsed
            self.assertEqual(NetworkStatus.NOT_CONNECTED, await connector.check_network())
        self.assertEqual(1, len(self.warnings()))

        now[0] = 1_000_030.0
        await connector.check_network()
        self.assertEqual(2, len(self.warnings()))
        self.assertIn("ClientConnectorError (for 30 s);", self.warnings()[1])

        emulator = LighterEmulator(port=self.port)
        await emulator.start()
        self.addAsyncCleanup(emulator.stop)
        self.assertEqual(NetworkStatus.CONNECTED, await connector.check_network())
        self.assertEqual(NetworkStatus.CONNECTED, await connector.check_network())
        recovered = [record.getMessage() for record in self.logs.records if "answers again" in record.getMessage()]
        self.assertEqual([f"Lighter at {self.url} answers again."], recovered)
        self.assertEqual(2, len(self.warnings()))

    async def test_an_exchange_that_does_not_answer_is_said_within_hummingbots_check_timeout(self):
        # A server that accepts connections and never answers.
        held = []
        server = await asyncio.start_server(lambda reader, writer: held.append(writer), "127.0.0.1", self.port)
        self.addAsyncCleanup(self.close_server, server, held)
        connector = LighterPerpetualDerivative(trading_pairs=[PAIR], trading_required=False)

        started = time.monotonic()
        status = await asyncio.wait_for(connector.check_network(), connector.check_network_timeout)
        self.assertEqual(NetworkStatus.NOT_CONNECTED, status)
        self.assertLess(time.monotonic() - started, connector.check_network_timeout)
        self.assertEqual([f"Cannot reach Lighter at {self.url}: no answer within 4 s; no orders can be "
                          f"placed until it answers."], self.warnings())

    @staticmethod
    async def close_server(server, writers):
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
