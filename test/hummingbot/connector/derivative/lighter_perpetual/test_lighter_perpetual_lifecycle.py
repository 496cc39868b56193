"""lighter_perpetual's lifecycle against the local emulator with the real SDK signer: a stop leaves no task of the
connector behind (recoveries in flight, the dead man's switch, the transaction socket), orders the connector had not
sent yet when it stopped or failed a network check each get a failure event, and the bounded order burst and
transaction queue refuse the order beyond them with a failure event instead of losing it."""
import asyncio
import gc
import logging
import os
import time
import unittest
from decimal import Decimal
from typing import Callable, List, Set
from unittest.mock import patch

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_transactions as transactions,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import (
    LogCollector,
    fresh_shared_session,
)

PAIR = "ETH-USDC"
WINDOW = 3


def hummingbot_tasks() -> Set[asyncio.Task]:
    """Pending tasks running Hummingbot's or the connector's code (the emulator's and the test's are not)."""
    return {task for task in asyncio.all_tasks() if not task.done() and task is not asyncio.current_task()
            and "/hummingbot/" in task.get_coro().cr_code.co_filename}


class LighterLifecycleTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0, min_cancel_all_period_ms=1000)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        for patcher in (patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                                CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url}),
                        patch.object(CONSTANTS, "DEAD_MAN_SWITCH_MIN_SECONDS", 1),
                        patch.object(CONSTANTS, "DEAD_MAN_SWITCH_CLOCK_MARGIN", 0)):
            patcher.start()
            self.addCleanup(patcher.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, is_ask=False, size=Decimal("2"), price=Decimal("2500"))
        self.ex.place_order(maker, 0, is_ask=True, size=Decimal("2"), price=Decimal("2505"))
        self.account, self.key_index, self.private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("100000"), api_key_index=4)
        self.logs = LogCollector()
        for name in ("hummingbot", "asyncio"):
            logger = logging.getLogger(name)
            logger.addHandler(self.logs)
            self.addCleanup(logger.removeHandler, self.logs)
        self.clock = Clock(ClockMode.REALTIME)
        self.connector = LighterPerpetualDerivative(
            lighter_perpetual_api_private_key=self.private_key, lighter_perpetual_api_key_index=self.key_index,
            lighter_perpetual_account_index=self.account, lighter_perpetual_account_tier="Premium",
            lighter_perpetual_dead_man_switch_seconds=WINDOW, trading_pairs=[PAIR])
        self.connector.check_network_interval = 0.1
        self.failures = EventLogger()
        self.connector.add_listener(MarketEvent.OrderFailure, self.failures)
        self.addAsyncCleanup(self.stop)

    async def stop(self):
        if self.connector.network_status is not NetworkStatus.STOPPED:
            await self.stop_cleanly()
        await ConnectionsFactory().close()

    async def start(self):
        self.connector.start(self.clock, time.time())
        await self.until(lambda: self.connector.ready)

    async def stop_cleanly(self):
        """As Hummingbot stops a connector: its clock's stop marks it stopped and stops its network in a task."""
        self.connector.stop(self.clock)
        await self.until(lambda: not self.connector._tx_client.running)

    async def until(self, condition: Callable[[], bool], timeout: float = 10):
        deadline = time.monotonic() + timeout
        while not condition():
            self.connector.tick(time.time())
            self.assertLess(time.monotonic(), deadline, "condition not met in time")
            await asyncio.sleep(0.01)

    def buy(self, count: int, price: Decimal = Decimal("2400")) -> List[str]:
        return [self.connector.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, price - step,
                                   position_action=PositionAction.OPEN) for step in range(count)]

    def on_exchange(self) -> Set[str]:
        return {str(order.client_order_index) for order in self.ex.state.orders.values()
                if order.account_index == self.account}

    def failure_messages(self) -> List[str]:
        return [event.error_message for event in self.failures.event_log]

    async def test_a_stop_leaves_no_task_of_the_connector_and_none_destroyed_pending(self):
        before = hummingbot_tasks()
        await self.start()
        (order_id,) = self.buy(1)
        await self.until(lambda: getattr(self.connector.in_flight_orders.get(order_id), "current_state", None)
                         == OrderState.OPEN)
        await self.until(lambda: self.ex.state.accounts[self.account].cancel_all_time != 0)
        # A recovery in flight at the stop: the account stream reconnected and the fills read is slow to answer.
        self.ex.faults.add(f"/api/v1{CONSTANTS.ACCOUNT_TRADES_PATH}", latency_ms=10_000)
        self.connector._user_stream_tracker.data_source.on_reconnect()
        await asyncio.sleep(0.2)
        self.assertTrue(self.connector._background)
        await self.stop_cleanly()
        await self.until(lambda: not (hummingbot_tasks() - before), timeout=5)
        self.assertEqual(set(), self.connector._background)
        self.assertIsNone(self.connector._tx_client._socket_reader)
        gc.collect()
        await asyncio.sleep(0)
        self.assertNotIn("Task was destroyed but it is pending", self.logs.text())

    async def test_orders_not_sent_when_the_connector_stops_each_get_a_failure_event(self):
        await self.start()
        order_ids = self.buy(10)
        self.connector.stop(self.clock)
        await self.until(lambda: not self.connector._tx_client.running)
        # The burst starts a few orders a loop iteration: the stop came after the first of them had started.
        unsent = order_ids[CONSTANTS.ORDERS_PER_LOOP_ITERATION:]
        await self.until(lambda: len(self.failures.event_log) >= len(unsent))
        refused = [event.order_id for event in self.failures.event_log
                   if event.error_message == "The connector stopped before the order left; it was not sent."]
        self.assertEqual(unsent, refused)
        self.assertEqual(set(), set(refused) & self.on_exchange())
        for order_id in refused:
            self.assertNotIn(order_id, self.connector.in_flight_orders)

    async def test_orders_not_sent_at_a_failed_network_check_each_get_a_failure_event(self):
        await self.start()
        self.ex.faults.add(f"/api/v1{CONSTANTS.ORDER_BOOKS_PATH}", status=500)
        await self.until(lambda: self.connector.network_status is NetworkStatus.NOT_CONNECTED)
        # Hummingbot's network loop calls stop_network once a check fails; orders submitted in that loop iteration
        # had not left yet.
        order_ids = self.buy(3)
        await self.connector.stop_network()
        await self.until(lambda: len(self.failures.event_log) == 3)
        self.assertEqual(order_ids, [event.order_id for event in self.failures.event_log])
        self.assertEqual(3 * ["Lighter failed the network check before the order left; it was not sent."],
                         self.failure_messages())
        await asyncio.sleep(0.3)
        self.assertEqual(set(), set(order_ids) & self.on_exchange())
        self.assertTrue(any("was not sent: Lighter failed the network check" in record.getMessage()
                            for record in self.logs.records if record.levelno == logging.WARNING))

    async def test_an_order_beyond_the_burst_bound_is_refused_with_a_failure_event(self):
        await self.start()
        with patch.object(CONSTANTS, "MAX_ORDER_BURST", 3):
            order_ids = self.buy(5)
            self.assertEqual([], self.failures.event_log)  # the strategy gets the ids before any event
            await self.until(lambda: len(self.on_exchange()) == 3 and len(self.failures.event_log) == 2)
        self.assertEqual(set(order_ids[:3]), self.on_exchange())
        self.assertEqual(order_ids[3:], [event.order_id for event in self.failures.event_log])
        self.assertEqual(2 * ["3 orders were already waiting to be sent; this one was not sent."],
                         self.failure_messages())

    async def test_a_transaction_beyond_the_queue_bound_is_refused_and_no_order_is_lost(self):
        await self.start()
        with patch.object(transactions, "MAX_QUEUED_TRANSACTIONS", 1):
            order_ids = self.buy(20)
            await self.until(lambda: all(
                order_id in self.on_exchange() or order_id in {event.order_id for event in self.failures.event_log}
                for order_id in order_ids))
            await asyncio.sleep(0.3)
        refused = {event.order_id for event in self.failures.event_log}
        self.assertTrue(refused)
        self.assertEqual(set(), refused & self.on_exchange())
        self.assertEqual(set(order_ids), refused | self.on_exchange())
        self.assertEqual({"1 transactions were already waiting to be sent to Lighter; this one was not sent."},
                         set(self.failure_messages()))


if __name__ == "__main__":
    unittest.main()
