"""The whole lifecycle at DEBUG logging: the Stark private key and the API key never appear in a log record, the API
key travels only in the X-Api-Key header (never in a URL or a body), and the Stark private key in no request."""
import json
import logging
from decimal import Decimal
from typing import List
from unittest.mock import patch

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.common import OrderType, PositionAction
from hummingbot.core.event.events import MarketEvent
from test.hummingbot.connector.derivative.extended_perpetual.extended_perpetual_emulator_fixtures import (
    PAIR,
    EmulatorConnectorTestCase,
)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: List[logging.LogRecord] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord):
        self.records.append(record)

    def texts(self) -> List[str]:
        return [self.formatter.format(record) for record in self.records]


class SecretLeakTests(EmulatorConnectorTestCase):
    async def asyncSetUp(self):
        self.capture = _Capture()
        self.root = logging.getLogger()
        self.previous_level = self.root.level
        self.root.addHandler(self.capture)
        self.root.setLevel(logging.DEBUG)
        await super().asyncSetUp()

    async def asyncTearDown(self):
        await super().asyncTearDown()
        self.root.removeHandler(self.capture)
        self.root.setLevel(self.previous_level)

    def secrets(self) -> List[str]:
        private_key = int(self.acct.stark_private_key, 16)
        return [self.acct.api_key, self.acct.stark_private_key, hex(private_key)[2:], hex(private_key)[2:].upper(),
                str(private_key)]

    async def run_lifecycle(self):
        connect = self.new_connector(trading_required=False)
        await connect._update_balances()
        price = self.inside_bid()
        resting = await self.place(True, "0.003", price=price)
        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.001"), price)
        await self.wait_for(lambda: self.log(MarketEvent.OrderFilled))
        self.connector.cancel(PAIR, resting)
        await self.place(True, "0.001", OrderType.LIMIT_MAKER, price=self.best("SELL"), state=lambda o: o.is_done)
        await self.place(True, "0.002", OrderType.MARKET, state=lambda o: o.is_done)
        self.ex.faults.fail_next(400, CONSTANTS.ORDER_PATH, "POST")
        await self.place(False, "0.001", price=self.best("SELL") + 5, state=lambda o: o.is_done)
        self.connector.set_leverage(PAIR, 60)
        self.ex.trigger_funding(PAIR, Decimal("0.0001"))
        self.connector._funding_fee_poll_notifier.set()
        await self.wait_for(lambda: self.log(MarketEvent.FundingPaymentCompleted))
        dropped = await self.place(True, "0.001", price=self.inside_bid())
        self.ex.faults.close_streams()
        self.ex.synthetic_taker(PAIR, "SELL", Decimal("0.001"), self.ex.state.order_by_external_id(
            self.acct.account_id, dropped).price)
        await self.place(False, "0.002", OrderType.MARKET, action=PositionAction.CLOSE, state=lambda o: o.is_done)
        await self.wait_for(lambda: dropped not in self.connector.in_flight_orders)
        await self.connector.cancel_all(5)

    async def test_secrets_stay_out_of_logs_and_requests(self):
        await self.run_lifecycle()

        texts = self.capture.texts()
        self.assertGreater(sum(record.levelno == logging.DEBUG for record in self.capture.records), 10)
        self.assertTrue(any("failed: Extended refused POST /user/order (HTTP 400" in text for text in texts))
        for secret in self.secrets():
            leaking = [text for text in texts if secret in text]
            self.assertEqual([], leaking, "a secret reached the logs")

        requests = self.ex.state.requests
        self.assertGreater(len(requests), 15)
        for record in requests:
            wire = json.dumps([record.path, record.query, record.body])
            for secret in self.secrets():
                self.assertNotIn(secret, wire, f"{record.method} {record.path}")
            if record.path.startswith("/user/"):
                # Resolved from the X-Api-Key header, the only place the emulator reads the key from on REST.
                self.assertEqual(self.acct.account_id, record.account_id, f"{record.method} {record.path}")
        stream_lines = [text for text in texts if "/stream.extended.exchange/v1/account" in text]
        self.assertTrue(stream_lines)
        self.assertFalse(any("x-api-key" in line.lower() for line in stream_lines))

    async def test_a_signer_error_quoting_the_keys_reaches_no_log_even_with_its_traceback(self):
        # The native signer failing with its inputs in the message: Hummingbot logs the order failure with
        # exc_info=True, which prints every exception chained to the one the connector raised.
        private_key = int(self.acct.stark_private_key, 16)
        leak = ValueError(f"cannot sign for {self.acct.api_key}: scalar {hex(private_key)} ({private_key}) rejected")
        with patch("x10.core.stark_account.sign", side_effect=leak):
            order_id = self.connector.buy(PAIR, Decimal("0.001"), OrderType.LIMIT, self.inside_bid(),
                                          position_action=PositionAction.OPEN)
            await self.wait_for(lambda: self.log(MarketEvent.OrderFailure))

        self.assertEqual(order_id, self.log(MarketEvent.OrderFailure)[0].order_id)
        # Hummingbot's own failure line, with the traceback.
        self.assertTrue([record for record in self.capture.records
                         if record.exc_info and "Error submitting buy LIMIT order" in record.getMessage()])
        texts = self.capture.texts()
        self.assertTrue(any("The order could not be signed: cannot sign for ***: scalar *** (***) rejected" in text
                            for text in texts))
        for secret in self.secrets():
            self.assertEqual([], [text for text in texts if secret in text], "a secret reached the logs")
