"""Orders the Extended connector refuses, against the local Extended emulator: one failure event and one sentence,
nothing sent; the Stark amount bounds; and the warnings of a running connector that cannot reach Extended."""
import asyncio
import logging
import os
import socket
import time
from decimal import Decimal
from unittest import IsolatedAsyncioTestCase, TestCase
from unittest.mock import patch

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_order_checks as checks,
    extended_perpetual_parsers as parsers,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    EmulatorConnectorTestCase,
)


class LogCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def at_least(self, level: int):
        return [record.getMessage() for record in self.records if record.levelno >= level]


def collect_logs(test) -> LogCollector:
    logs = LogCollector()
    hummingbot_logger = logging.getLogger("hummingbot")
    hummingbot_logger.addHandler(logs)
    test.addCleanup(hummingbot_logger.removeHandler, logs)
    test.addCleanup(hummingbot_logger.setLevel, hummingbot_logger.level)
    hummingbot_logger.setLevel(logging.INFO)
    return logs


class ExtendedRefusalTests(EmulatorConnectorTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.logs = collect_logs(self)

    def posts(self) -> int:
        return len(self.requests("POST", CONSTANTS.ORDER_PATH))

    async def refused(self, connector: ExtendedPerpetualDerivative, failures: EventLogger, is_buy: bool, amount: str,
                      price: Decimal, pair: str = PAIR) -> str:
        posts = self.posts()
        place = connector.buy if is_buy else connector.sell
        order_id = place(pair, Decimal(amount), OrderType.LIMIT, price, position_action=PositionAction.OPEN)
        await self.wait_for(lambda: failures.event_log)
        await asyncio.sleep(0.05)
        [failure] = failures.event_log
        self.assertEqual(order_id, failure.order_id)
        self.assertEqual([f"{'Buy' if is_buy else 'Sell'} order {order_id} for {pair} was not sent: "
                          f"{failure.error_message}"], self.logs.at_least(logging.WARNING))
        self.assertEqual(posts, self.posts())
        return failure.error_message

    async def test_a_buy_above_the_price_cap_is_one_sentence_without_hummingbots_network_hint(self):
        mark = self.ex.state.markets[PAIR].mark_price
        await self.wait_for(lambda: self.connector._mark_price(PAIR, live_only=True) == mark)
        message = await self.refused(self.connector, self.log_of(MarketEvent.OrderFailure), True, "0.001", mark * 2)
        self.assertIn("is above the limit price cap of BTC-USD", message)
        self.assertNotIn("Check API key", "\n".join(r.getMessage() for r in self.logs.records))

    async def test_an_unknown_pair_fails_with_a_sentence_naming_it(self):
        message = await self.refused(self.connector, self.log_of(MarketEvent.OrderFailure), True, "1", Decimal("10"),
                                     pair="FOO-USD")
        self.assertEqual("FOO-USD is not a market listed on Extended; the order was not sent.", message)
        self.assertFalse(any("Unhandled error" in r.getMessage() for r in self.logs.records))

    async def test_an_order_before_the_markets_are_loaded_says_the_connector_is_not_connected(self):
        connector = self.new_connector()
        failures = EventLogger()
        connector.add_listener(MarketEvent.OrderFailure, failures)
        message = await self.refused(connector, failures, True, "0.001", Decimal("70000"))
        self.assertEqual("The Extended connector is not connected yet (its markets are not loaded), so the BTC-USD "
                         "order was not sent.", message)

    def log_of(self, event: MarketEvent) -> EventLogger:
        return self.events[event]


class StarkAmountBoundTests(TestCase):
    def spec(self, max_value: str = "1000000") -> parsers.MarketSpec:
        entry = helpers.market_entry("BTC-USD", "BTC", "USD", synthetic_resolution=1_000_000)
        entry["tradingConfig"].update({"maxLimitOrderValue": max_value, "maxMarketOrderValue": max_value})
        return parsers.parse_market(entry)

    def test_amounts_up_to_the_signed_64_bit_field_pass_and_beyond_are_refused(self):
        spec = self.spec()
        largest = Decimal(2 ** 63 - 1) / spec.synthetic_resolution
        checks.check_stark_amounts(spec, largest, Decimal("0.000001"))
        with self.assertRaisesRegex(checks.OrderRefused, r"^Amount 9223372036854.775808 is more than an Extended order "
                                                         r"can sign for BTC-USD: at most 9223372036854.775807 BTC.$"):
            checks.check_stark_amounts(spec, largest + Decimal("0.000001"), Decimal("0.000001"))

    def test_an_order_value_beyond_the_collateral_field_is_refused(self):
        spec = self.spec()
        most = Decimal(2 ** 63 - 1) / spec.collateral_resolution
        checks.check_stark_amounts(spec, Decimal(1), most)
        with self.assertRaisesRegex(checks.OrderRefused, "is more than an Extended order can sign for BTC-USD: at most "
                                                         f"{most:f} USD."):
            checks.check_stark_amounts(spec, Decimal(1), most + Decimal("0.000001"))


class ExtendedUnreachableTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.url,
                                      CONSTANTS.WSS_URL_ENV_VAR: f"ws://127.0.0.1:{port}"})
        env.start()
        self.addCleanup(env.stop)
        self.logs = collect_logs(self)

    async def test_unreachable_exchange_is_said_at_once_then_every_30_seconds(self):
        connector = ExtendedPerpetualDerivative(trading_pairs=[PAIR], trading_required=False)
        now = [2_000_000.0]
        connector._time = lambda: now[0]
        started = time.monotonic()
        self.assertEqual(NetworkStatus.NOT_CONNECTED, await connector.check_network())
        self.assertLess(time.monotonic() - started, 4)
        [warning] = self.logs.at_least(logging.WARNING)
        self.assertRegex(warning, r"^Cannot reach Extended at http://127.0.0.1:\d+\S*: ClientConnectorError; no orders "
                                  r"can be placed until it answers.$")
        now[0] += 29
        await connector.check_network()
        self.assertEqual(1, len(self.logs.at_least(logging.WARNING)))
        now[0] += 1
        await connector.check_network()
        self.assertIn("ClientConnectorError (for 30 s);", self.logs.at_least(logging.WARNING)[1])
