"""Orders the Extended connector refuses, against the local Extended emulator: one failure event and one sentence,
nothing sent; orders the rate budget has no room for within their maximum age; the Stark amount bounds; and the
warnings of a running connector that cannot reach Extended."""
import asyncio
import logging
import os
import re
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
from hummingbot.core.event.event_forwarder import SourceInfoEventForwarder
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    TICK,
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

    # --- maximum order age ------------------------------------------------------------------------------------------

    async def test_orders_the_rate_budget_has_no_room_for_fail_unsent_at_their_maximum_age(self):
        max_age = 0.5
        # 3 % of the limits: a shared pool of 29 requests a minute, which start-up and a few orders use up.
        connector = self.new_connector(extended_perpetual_max_order_age_seconds=str(max_age),
                                       extended_perpetual_dead_man_switch_seconds=0, rate_limits_share_pct=Decimal(3))
        self.addAsyncCleanup(connector.stop_network)
        failures = EventLogger()
        failed_at = {}
        at_failure = SourceInfoEventForwarder(lambda _tag, _connector, event: failed_at.setdefault(
            event.order_id, time.monotonic()))
        connector.add_listener(MarketEvent.OrderFailure, failures)
        connector.add_listener(MarketEvent.OrderFailure, at_failure)
        connector._set_current_timestamp(time.time())
        await connector.start_network()
        await self.wait_for(lambda: connector.ready, timeout=10)
        price = self.best("BUY") - 100 * TICK

        def settled(order_id: str) -> bool:
            order = connector._order_tracker.fetch_order(order_id)
            return order is not None and (order.exchange_order_id is not None or order.is_done)

        # One order at a time until the pool has no room: that order waits its maximum age and fails.
        placed = []
        while not failures.event_log:
            self.assertLess(len(placed), 30, "the budget never ran out")
            placed.append(connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, price - len(placed),
                                        position_action=PositionAction.OPEN))
            await self.wait_for(lambda: settled(placed[-1]))
        self.assertEqual([placed[-1]], [event.order_id for event in failures.event_log])
        posts = self.posts()
        failures.clear()

        started = time.monotonic()
        burst = [connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, price - 50 - i,
                               position_action=PositionAction.OPEN) for i in range(40)]
        await self.wait_for(lambda: set(burst) <= set(failed_at))
        self.assertLess(time.monotonic() - started, max_age + 0.5)
        # Nothing of it left, and nothing failed before its age.
        self.assertEqual(posts, self.posts())
        self.assertGreaterEqual(min(failed_at[order_id] for order_id in burst) - started, max_age)
        messages = {event.order_id: event.error_message for event in failures.event_log}
        self.assertEqual(set(burst), set(messages))
        sentence = re.compile(r"^Not sent \(rate limit\): the order was still waiting for room in the rate budget "
                              r"(\d+\.\d) s after it was placed, its maximum age \(max_order_age_seconds 0\.5\)\.$")
        for order_id in burst:
            age = sentence.match(messages[order_id])
            self.assertIsNotNone(age, messages[order_id])
            self.assertGreaterEqual(float(age.group(1)), max_age)
            self.assertTrue(connector._order_tracker.fetch_order(order_id).is_failure)
            # One WARNING, the sentence, and no "Check API key and network connection" or traceback.
            self.assertEqual([f"Buy order {order_id} for {PAIR}: {messages[order_id]}"],
                             [line for line in self.logs.at_least(logging.WARNING) if order_id in line])
        self.assertFalse(any("Check API key" in r.getMessage() or r.exc_info for r in self.logs.records))
        self.assertEqual(set(placed[:-1]), {order.external_id
                                            for order in self.ex.state.account_open_orders(self.acct.account_id)})

    async def test_a_maximum_age_outside_its_range_is_refused_with_one_sentence(self):
        for value in ("0", "-1", "601", "soon", "nan"):
            with self.subTest(value=value), self.assertRaises(ValueError) as refused:
                self.new_connector(extended_perpetual_max_order_age_seconds=value)
            self.assertEqual("The maximum order age must be a number of seconds above 0 and at most 600, or empty "
                             "for 5.", str(refused.exception))
        for value, seconds in (("", 5.0), (None, 5.0), ("0.25", 0.25), ("600", 600.0)):
            self.assertEqual(seconds, self.new_connector(extended_perpetual_max_order_age_seconds=value)._max_order_age)


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
