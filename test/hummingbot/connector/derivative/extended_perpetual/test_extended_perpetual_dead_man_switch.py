"""The dead man's switch against the Extended emulator: armed once the connector is ready, renewed from the
connector's own task a few times per window, disarmed by a clean stop, left armed when only the network is lost (the
exchange then cancels the orders), off with 0 and for connectors that do not trade."""
import asyncio
import logging
import time
from decimal import Decimal
from typing import List

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_derivative import ExtendedPerpetualDerivative
from hummingbot.core.clock import Clock, ClockMode
from hummingbot.core.network_iterator import NetworkStatus
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    EmulatorConnectorTestCase,
)

PATH = CONSTANTS.DEAD_MAN_SWITCH_PATH


class DeadManSwitchTestCase(EmulatorConnectorTestCase):
    window = 3

    def new_connector(self, trading_required: bool = True, **kwargs) -> ExtendedPerpetualDerivative:
        return ExtendedPerpetualDerivative(
            self.acct.api_key, self.acct.stark_private_key, self.acct.stark_public_key, self.acct.vault,
            extended_perpetual_dead_man_switch_seconds=self.window, trading_pairs=[PAIR],
            trading_required=trading_required)

    def switch_requests(self) -> List:
        return self.requests("POST", PATH)

    def countdowns(self) -> List[str]:
        return [request.query["countdownTime"][0] for request in self.switch_requests()]

    def logger(self) -> logging.Logger:
        return logging.getLogger(ExtendedPerpetualDerivative.__module__ + ".ExtendedPerpetualDerivative")


class ArmAndRenewTests(DeadManSwitchTestCase):
    async def test_armed_once_ready_then_renewed_every_third_of_the_window(self):
        await self.wait_for(lambda: self.switch_requests())
        self.assertAlmostEqual(self.switch_requests()[0].ts + self.window * 1000, self.acct.dead_man_deadline_ms,
                               delta=300)
        await self.wait_for(lambda: len(self.switch_requests()) >= 5, timeout=4 * self.window)
        stamps = [request.ts for request in self.switch_requests()]
        gaps = [(later - earlier) / 1000 for earlier, later in zip(stamps, stamps[1:])]
        period = self.window / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW
        self.assertEqual({str(self.window)}, set(self.countdowns()))
        # From the connector's own timer: evenly, well inside the window, and not faster than the period.
        self.assertLess(max(gaps), self.window / 2, gaps)
        self.assertGreater(min(gaps), 0.8 * period, gaps)
        self.assertTrue(self.connector._dead_man_switch_armed)

    async def test_not_armed_before_the_connector_is_ready(self):
        other = self.ex.create_account(collateral=Decimal("1000"))
        late = ExtendedPerpetualDerivative(
            other.api_key, other.stark_private_key, other.stark_public_key, other.vault,
            extended_perpetual_dead_man_switch_seconds=self.window, trading_pairs=[PAIR])
        # Whether the connector was ready when each of its requests reached the exchange.
        readiness = []
        log_request = self.ex.state.log_request

        def record(request):
            if request.account_id == other.account_id:
                readiness.append((request.path, late.ready))
            log_request(request)

        self.ex.state.log_request = record
        late._set_current_timestamp(time.time())
        await late.start_network()
        try:
            await self.wait_for(lambda: (PATH, True) in readiness, timeout=10)
            running = list(readiness)  # the stop's disarm comes once the connector is no longer ready
        finally:
            await late.stop_network()
        self.assertIn(False, [ready for _, ready in running])
        self.assertEqual([True], list({ready for path, ready in running if path == PATH}))

    async def test_renewals_count_in_the_throttler_budget(self):
        await self.wait_for(lambda: len(self.switch_requests()) >= 2)
        limit_ids = [log.rate_limit.limit_id for log in self.connector._throttler._task_logs]
        self.assertIn(PATH, limit_ids)
        self.assertIn(CONSTANTS.ALL_ENDPOINTS_LIMIT, limit_ids)

    async def test_a_failed_renewal_is_a_warning_and_the_next_one_renews(self):
        await self.wait_for(lambda: self.switch_requests())
        self.ex.faults.fail_next(500, PATH, "POST")
        with self.assertLogs(self.logger(), level="WARNING") as logs:
            await self.wait_for(lambda: any("Renewing Extended's dead man's switch failed" in line
                                            for line in logs.output), timeout=2 * self.window)
        failed_at = time.time() * 1000
        await self.wait_for(lambda: self.acct.dead_man_deadline_ms > failed_at + 0.5 * self.window * 1000,
                            timeout=self.window)
        self.assertIn(f"within {self.window} s of the last one, Extended cancels every open order of the account.",
                      logs.output[0])


class StopTests(DeadManSwitchTestCase):
    async def place_resting(self) -> str:
        return await self.place(True, "0.001", price=self.best("BUY") - 100)

    async def test_a_clean_stop_disarms_the_switch_and_stops_renewing(self):
        await self.wait_for(lambda: self.switch_requests())
        order_id = await self.place_resting()
        self.connector.stop(Clock(ClockMode.REALTIME))
        await self.wait_for(lambda: self.countdowns()[-1] == "0")
        sent = len(self.switch_requests())
        await asyncio.sleep(self.window * 1.3)
        self.assertEqual(sent, len(self.switch_requests()))
        self.assertIsNone(self.acct.dead_man_deadline_ms)
        self.assertIsNone(self.connector._dead_man_switch_task)
        # Disarmed: what Hummingbot did not cancel on stop stays on the book.
        self.assertEqual("NEW", self.ex.state.order_by_external_id(self.acct.account_id, order_id).status)

    async def test_a_clean_stop_through_the_clock_disarms_the_switch(self):
        # Hummingbot's stop and exit leave the clock's context, which stops the connector without calling a Python
        # override of stop(): only the STOPPED status tells a clean stop from a failed network check.
        await self.wait_for(lambda: self.switch_requests())
        with Clock(ClockMode.REALTIME) as clock:
            clock.add_iterator(self.connector)
        await self.wait_for(lambda: self.countdowns()[-1] == "0")
        self.assertIsNone(self.acct.dead_man_deadline_ms)

    async def test_a_lost_network_leaves_the_switch_armed_and_extended_cancels(self):
        await self.wait_for(lambda: self.switch_requests())
        order_id = await self.place_resting()
        clock = Clock(ClockMode.REALTIME)
        self.connector.check_network_interval = 0.1
        self.connector.start(clock, time.time())
        await self.wait_for(lambda: self.connector.network_status is NetworkStatus.CONNECTED)
        # Hummingbot's network check fails: it calls stop_network, and the status says NOT_CONNECTED.
        self.ex.faults.fail_next(500, CONSTANTS.MARKETS_PATH, "GET", count=None)
        await self.wait_for(lambda: self.connector.network_status is NetworkStatus.NOT_CONNECTED)
        await self.wait_for(lambda: self.connector._dead_man_switch_task is None)
        stopped_at = time.monotonic()
        self.assertNotIn("0", self.countdowns())
        self.assertIsNotNone(self.acct.dead_man_deadline_ms)
        order = self.ex.state.order_by_external_id(self.acct.account_id, order_id)
        await self.wait_for(lambda: not order.is_open, timeout=self.window + 1)
        self.assertEqual("CANCELLED", order.status)
        self.assertLess(time.monotonic() - stopped_at, self.window + 0.5)
        self.assertNotIn("0", self.countdowns())
        # The bot stopped later still turns the switch off.
        self.connector.stop(clock)
        await self.wait_for(lambda: self.countdowns()[-1] == "0")


class OffTests(DeadManSwitchTestCase):
    window = 0

    async def test_zero_never_arms(self):
        await self.place(True, "0.001", price=self.best("BUY") - 100)
        self.connector.stop(Clock(ClockMode.REALTIME))
        await asyncio.sleep(1.0)
        self.assertEqual([], self.switch_requests())
        self.assertIsNone(self.connector._dead_man_switch_task)


class NotTradingTests(DeadManSwitchTestCase):
    async def test_a_connector_that_does_not_trade_never_arms(self):
        other = self.ex.create_account(collateral=Decimal("1000"))
        watcher = ExtendedPerpetualDerivative(
            other.api_key, other.stark_private_key, other.stark_public_key, other.vault,
            extended_perpetual_dead_man_switch_seconds=self.window, trading_pairs=[PAIR], trading_required=False)
        watcher.order_book_tracker._sleep = self.connector.order_book_tracker._sleep
        watcher._set_current_timestamp(time.time())
        await watcher.start_network()
        try:
            await self.wait_for(lambda: watcher.ready, timeout=10)
            await asyncio.sleep(self.window / CONSTANTS.DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW * 1.5)
        finally:
            await watcher.stop_network()
        self.assertIsNone(watcher._dead_man_switch_task)
        self.assertEqual([], [request for request in self.switch_requests() if request.account_id == other.account_id])
        self.assertTrue([request for request in self.switch_requests() if request.account_id == self.acct.account_id])
