"""Lighter's dead man's switch, driven by lighter_perpetual against the local emulator with the real SDK signer: armed
once the connector starts, renewed from its own task every third of the window (an abort and a new schedule in one
request, counted by the throttler), said once at WARNING while renewals fail, aborted on a clean stop, left running
through a failed network check, and off at 0."""
import asyncio
import json
import logging
import os
import time
import unittest
from decimal import Decimal
from typing import Callable, List, Tuple
from unittest.mock import patch

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import (
    LogCollector,
    fresh_shared_session,
)

PAIR = "ETH-USDC"
# Short windows keep the tests short: the emulator's minimum (5 minutes on Lighter) is lowered to match, and so is the
# connector's copy of it. Renewing a 3 s window every second would use a Standard account's whole budget of 60
# requests a minute: the tests run as Premium.
WINDOW = 3
SCHEDULED, ABORT, IMMEDIATE = CONSTANTS.CANCEL_ALL_SCHEDULED, CONSTANTS.CANCEL_ALL_ABORT, CONSTANTS.CANCEL_ALL_IMMEDIATE


class LighterDeadManSwitchTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0, min_cancel_all_period_ms=1000)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        for patcher in (patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                                CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url}),
                        patch.object(CONSTANTS, "DEAD_MAN_SWITCH_MIN_SECONDS", 1),
                        patch.object(CONSTANTS, "DEAD_MAN_SWITCH_CLOCK_MARGIN", 0),
                        patch.object(CONSTANTS, "DEAD_MAN_SWITCH_RETRY_INTERVAL", 0.2)):
            patcher.start()
            self.addCleanup(patcher.stop)
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, is_ask=False, size=Decimal("2"), price=Decimal("2500"))
        self.ex.place_order(maker, 0, is_ask=True, size=Decimal("2"), price=Decimal("2505"))
        self.account, self.key_index, self.private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("100000"), api_key_index=4)
        self.logs = LogCollector()
        logger = logging.getLogger("hummingbot")
        logger.addHandler(self.logs)
        self.addCleanup(logger.removeHandler, self.logs)
        self.addCleanup(logger.setLevel, logger.level)
        logger.setLevel(logging.INFO)
        self.clock = Clock(ClockMode.REALTIME)
        self.connector = None
        self.addAsyncCleanup(self.stop)

    async def stop(self):
        if self.connector is not None and self.connector.network_status is not NetworkStatus.STOPPED:
            await self.stop_cleanly()
        await ConnectionsFactory().close()

    async def start(self, **settings) -> LighterPerpetualDerivative:
        self.connector = LighterPerpetualDerivative(
            lighter_perpetual_api_private_key=self.private_key, lighter_perpetual_api_key_index=self.key_index,
            lighter_perpetual_account_index=self.account, lighter_perpetual_account_tier="Premium",
            trading_pairs=[PAIR], **settings)
        self.connector.check_network_interval = 0.1
        self.connector.start(self.clock, time.time())
        await self.until(lambda: self.connector.ready)
        return self.connector

    async def until(self, condition: Callable[[], bool], timeout: float = 10):
        deadline = time.monotonic() + timeout
        while not condition():
            self.connector.tick(time.time())
            self.assertLess(time.monotonic(), deadline, "condition not met in time")
            await asyncio.sleep(0.01)

    def cancel_alls(self) -> List[Tuple[int, List[Tuple[int, int]]]]:
        """Every frame or request carrying cancel-all transactions: (received ms, [(time in force, time), ...])."""
        sent = []
        for request in self.ex.state.requests:
            fields = request.form.get("data") if request.transport == "ws" else request.form
            if not isinstance(fields, dict) or ("tx_type" not in fields and "tx_types" not in fields):
                continue
            if "tx_types" in fields:
                types, infos = json.loads(fields["tx_types"]), json.loads(fields["tx_infos"])
            else:
                types, infos = [int(fields["tx_type"])], [fields["tx_info"]]
            infos = [info if isinstance(info, dict) else json.loads(info) for info in infos]
            txs = [(info["TimeInForce"], info["Time"]) for tx_type, info in zip(types, infos)
                   if tx_type == CONSTANTS.TX_TYPE_CANCEL_ALL_ORDERS]
            if txs:
                sent.append((request.received_ms, txs))
        return sent

    @property
    def scheduled_at(self) -> int:
        return self.ex.state.accounts[self.account].cancel_all_time

    def truth_orders(self):
        return list(self.ex.state.accounts[self.account].active_orders.values())

    async def stop_cleanly(self):
        """As Hummingbot stops a connector: stop() marks it stopped and stops its network in a task of its own."""
        self.connector.stop(self.clock)
        await self.until(lambda: not self.connector._tx_client.running)

    async def place_order(self) -> str:
        order_id = self.connector.buy(PAIR, Decimal("0.1"), OrderType.LIMIT, Decimal("2400"),
                                      position_action=PositionAction.OPEN)
        await self.until(lambda: getattr(self.connector.in_flight_orders.get(order_id), "current_state", None)
                         == OrderState.OPEN)
        return order_id

    async def test_armed_at_start_with_the_default_window_in_one_throttled_request(self):
        with patch.object(CONSTANTS, "DEAD_MAN_SWITCH_MIN_SECONDS", 300), \
                patch.object(CONSTANTS, "DEAD_MAN_SWITCH_CLOCK_MARGIN", 15):
            self.ex.txs.min_cancel_all_period_ms = 5 * 60 * 1000
            started_ms = int(time.time() * 1000)
            await self.start(lighter_perpetual_dead_man_switch_seconds="")
            await self.until(lambda: self.scheduled_at != 0)
        # Lighter cancels everything 300 s (+15 s for the clocks) from now unless renewed.
        self.assertGreaterEqual(self.scheduled_at, started_ms + 315_000)
        self.assertLessEqual(self.scheduled_at, int(time.time() * 1000) + 315_000)
        ((_, txs),) = self.cancel_alls()
        self.assertEqual([(ABORT, 0), (SCHEDULED, self.scheduled_at)], txs)
        # Through the throttler, as one transaction request of the account's budget.
        throttled = [log.rate_limit.limit_id for log in self.connector._throttler._task_logs]
        self.assertIn(CONSTANTS.TX_LIMIT, throttled)
        self.assertEqual(300, self.connector._dead_man_switch_seconds)

    async def test_renewed_every_third_of_the_window_from_its_own_task_and_orders_survive(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds=WINDOW)
        await self.place_order()
        await self.until(lambda: len(self.cancel_alls()) >= 1)
        first_ms = self.cancel_alls()[0][0]
        # No ticks meanwhile: the renewals do not depend on the strategy or the clock.
        await asyncio.sleep(2 * WINDOW + 0.3)
        renewals = self.cancel_alls()
        expected = (int(time.time() * 1000) - first_ms) // 1000 + 1  # one at start, then one a second
        self.assertLessEqual(abs(len(renewals) - expected), 1, [ms - first_ms for ms, _ in renewals])
        gaps = [later[0] - earlier[0] for earlier, later in zip(renewals, renewals[1:])]
        self.assertTrue(all(900 <= gap <= 1300 for gap in gaps), gaps)
        for received_ms, txs in renewals:
            self.assertEqual([ABORT, SCHEDULED], [tif for tif, _ in txs])
            self.assertAlmostEqual(received_ms + WINDOW * 1000, txs[1][1], delta=300)
        self.assertEqual(1, len(self.truth_orders()))
        self.assertEqual(renewals[-1][1][1][1], self.scheduled_at)

    async def test_a_failing_renewal_is_said_once_retried_promptly_and_recovers(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds=WINDOW)
        await self.until(lambda: self.scheduled_at != 0)
        # Lighter now refuses the schedule (21714): the window is shorter than its minimum.
        self.ex.txs.min_cancel_all_period_ms = 10_000
        refused_from = len(self.cancel_alls())
        await self.until(lambda: len(self.cancel_alls()) >= refused_from + 4)
        warnings = [record for record in self.logs.records if record.levelno == logging.WARNING
                    and "dead man's switch" in record.getMessage()]
        self.assertEqual(1, len(warnings))
        self.assertIsNone(warnings[0].exc_info)
        self.assertIn("(code 21714)", warnings[0].getMessage())
        self.assertIn(f"cancels every open order of account {self.account} at ", warnings[0].getMessage())
        retries = [ms for ms, _ in self.cancel_alls()[refused_from:]]
        self.assertTrue(all(later - earlier < 1000 for earlier, later in zip(retries, retries[1:])), retries)

        self.ex.txs.min_cancel_all_period_ms = 1000
        await self.until(lambda: any("renewed again" in record.getMessage() for record in self.logs.records))
        self.assertGreater(self.scheduled_at, int(time.time() * 1000))
        self.assertEqual(1, len([record for record in self.logs.records if record.levelno == logging.WARNING
                                 and "dead man's switch" in record.getMessage()]))

    async def test_a_clean_stop_aborts_the_schedule_and_leaves_the_orders(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds=WINDOW)
        await self.place_order()
        await self.until(lambda: self.scheduled_at != 0)
        await self.stop_cleanly()
        self.assertEqual(0, self.scheduled_at)
        self.assertEqual((ABORT, 0), self.cancel_alls()[-1][1][-1])
        self.assertIsNone(self.connector._dead_man_switch_task)
        sent = len(self.cancel_alls())
        await asyncio.sleep(WINDOW + 0.5)
        self.assertEqual(sent, len(self.cancel_alls()))
        self.assertEqual(["open"], [order.status for order in self.truth_orders()])
        self.assertTrue(any("dead man's switch is off" in record.getMessage() for record in self.logs.records))

    async def test_with_cancel_all_on_stop_the_cancel_all_and_the_abort_leave_in_one_request(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds=WINDOW, lighter_perpetual_cancel_all_on_stop=True)
        await self.place_order()
        await self.until(lambda: self.scheduled_at != 0)
        await self.stop_cleanly()
        self.assertEqual([(IMMEDIATE, 0), (ABORT, 0)], self.cancel_alls()[-1][1])
        self.assertEqual([], self.truth_orders())
        self.assertEqual(0, self.scheduled_at)

    async def test_a_failed_network_check_leaves_the_switch_running(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds=WINDOW)
        task = self.connector._dead_man_switch_task
        self.ex.faults.add(f"/api/v1{CONSTANTS.ORDER_BOOKS_PATH}", status=500)
        await self.until(lambda: self.connector.network_status is NetworkStatus.NOT_CONNECTED)
        sent = len(self.cancel_alls())
        await asyncio.sleep(WINDOW / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW + 0.3)
        self.assertGreater(len(self.cancel_alls()), sent)
        self.ex.faults.clear(f"/api/v1{CONSTANTS.ORDER_BOOKS_PATH}")
        await self.until(lambda: self.connector.ready)
        self.assertIs(task, self.connector._dead_man_switch_task)
        self.assertFalse(task.done())

    async def test_zero_turns_it_off(self):
        await self.start(lighter_perpetual_dead_man_switch_seconds="0")
        await self.place_order()
        await asyncio.sleep(0.5)
        await self.stop_cleanly()
        self.assertEqual([], self.cancel_alls())
        self.assertIsNone(self.connector._dead_man_switch_task)


if __name__ == "__main__":
    unittest.main()
