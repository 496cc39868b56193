"""extended_perpetual's lifecycle against the emulator: a stop leaves no task of the connector behind (a mass cancel in
flight, the dead man's switch, Hummingbot's funding payment poll), and none is destroyed pending."""
import asyncio
import gc
import logging
import time
from typing import Set

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.limit_order import LimitOrder
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    EmulatorConnectorTestCase,
)


def hummingbot_tasks() -> Set[asyncio.Task]:
    """Pending tasks running Hummingbot's or the connector's code (the emulator's and the test's are not)."""
    return {task for task in asyncio.all_tasks() if not task.done() and task is not asyncio.current_task()
            and "/hummingbot/" in task.get_coro().cr_code.co_filename}


class LifecycleTests(EmulatorConnectorTestCase):
    async def asyncSetUp(self):
        self.before = hummingbot_tasks()
        self.records = []
        handler = logging.Handler()
        handler.emit = self.records.append
        logger = logging.getLogger("asyncio")
        logger.addHandler(handler)
        self.addCleanup(logger.removeHandler, handler)
        await super().asyncSetUp()

    async def test_a_stop_leaves_no_task_of_the_connector_and_none_destroyed_pending(self):
        await self.wait_for(lambda: self.requests("POST", CONSTANTS.DEAD_MAN_SWITCH_PATH))
        order_id = await self.place(True, "0.001", price=self.best("BUY") - 100)
        # A mass cancel in flight at the stop: Extended is slow to answer it.
        self.ex.faults.delay(10, CONSTANTS.MASS_CANCEL_PATH, "POST")
        order = self.connector.in_flight_orders[order_id]
        self.connector.batch_order_cancel([LimitOrder(order_id, PAIR, True, "BTC", "USD", order.price, order.amount)])
        await self.wait_for(lambda: self.requests("POST", CONSTANTS.MASS_CANCEL_PATH))
        self.assertTrue(self.connector._background)
        self.connector.stop(Clock(ClockMode.REALTIME))
        await self.wait_for(lambda: not (hummingbot_tasks() - self.before), timeout=5)
        self.assertEqual(set(), self.connector._background)
        self.assertIsNone(self.connector._funding_fee_polling_task)
        gc.collect()
        await asyncio.sleep(0)
        self.assertEqual([], [record.getMessage() for record in self.records
                              if "Task was destroyed but it is pending" in record.getMessage()])

    async def test_a_restart_leaves_one_funding_payment_poll(self):
        polls = lambda: [task for task in hummingbot_tasks()  # noqa: E731
                         if "_funding_payment_polling_loop" in repr(task.get_coro().cr_await)]
        await self.wait_for(lambda: len(polls()) == 1)
        self.connector._set_current_timestamp(time.time())
        await self.connector.start_network()  # Hummingbot restarts the network after a failed check the same way
        await self.wait_for(lambda: self.connector.ready, timeout=10)
        await asyncio.sleep(0.1)
        self.assertEqual(1, len(polls()))
        self.assertIsNotNone(self.connector._funding_fee_polling_task)
