import asyncio
import json
import logging
import os
import re
import threading
import time
import unittest
from decimal import Decimal
from typing import List
from unittest.mock import patch

from aioresponses import aioresponses

from emulator.lighter import LighterEmulator
from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_transactions as transactions_module,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions import (
    DECISIONS,
    Action,
    LighterKeyError,
    LighterOutcomeUnknown,
    LighterTransactionClient,
    LighterTransactionError,
    TxErrorKind,
    _PendingTx,
    classify,
)
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.api_throttler.data_types import RateLimit
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads
from test.hummingbot.connector.derivative.lighter_perpetual.test_lighter_perpetual_e2e import fresh_shared_session

# The mainnet endpoints the client uses when no URL override is set (see payloads.use_default_urls).
API_URL = CONSTANTS.REST_URLS[CONSTANTS.DEFAULT_DOMAIN] + CONSTANTS.API_VERSION
SEND_TX_URL = API_URL + CONSTANTS.SEND_TX_PATH
SEND_TX_BATCH_URL = API_URL + CONSTANTS.SEND_TX_BATCH_PATH
NEXT_NONCE_URL = re.compile("^" + re.escape(API_URL + CONSTANTS.NEXT_NONCE_PATH) + r"\?.*$")
TRANSACTIONS_MODULE = "hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_transactions"


def nonce_body(nonce: int) -> str:
    return json.dumps({"code": 200, "nonce": nonce})


class LighterTransactionClientTests(unittest.IsolatedAsyncioTestCase):
    # Receives the client's log records (see handle).
    level = logging.DEBUG

    async def asyncSetUp(self):
        payloads.use_default_urls(self)
        self.log_records: List[logging.LogRecord] = []
        self.client = self.create_client(payloads.API_PRIVATE_KEY)
        self.client.logger().setLevel(logging.DEBUG)
        self.client.logger().addHandler(self)
        self.mock_api = aioresponses()
        self.mock_api.start()
        self.addCleanup(self.mock_api.stop)

    async def asyncTearDown(self):
        self.client.logger().removeHandler(self)
        await self.client.stop()

    def handle(self, record: logging.LogRecord):
        self.log_records.append(record)

    @staticmethod
    def create_client(private_key: str) -> LighterTransactionClient:
        return LighterTransactionClient(api_factory=web_utils.build_api_factory(),
                                        account_index=payloads.ACCOUNT_INDEX, api_key_index=payloads.API_KEY_INDEX,
                                        api_private_key=private_key)

    def create_order(self, client_order_index: int, is_ask: bool = False):
        return self.client.create_order(market_index=0, client_order_index=client_order_index, base_amount=15000,
                                        price=236131, is_ask=is_ask, order_type=CONSTANTS.ORDER_TYPE_LIMIT,
                                        time_in_force=CONSTANTS.TIME_IN_FORCE_GTT, reduce_only=False,
                                        order_expiry=-1)

    def sent(self, url: str) -> List[dict]:
        calls = [call for key, calls in self.mock_api.requests.items() if str(key[1]) == url for call in calls]
        return [payloads.decode_form(call.kwargs["data"], call.kwargs["headers"]["Content-Type"]) for call in calls]

    def nonce_reads(self) -> int:
        return sum(len(calls) for key, calls in self.mock_api.requests.items()
                   if key[1].path.endswith(CONSTANTS.NEXT_NONCE_PATH))

    def tx_infos(self, url: str) -> List[dict]:
        infos = []
        for fields in self.sent(url):
            raw = json.loads(fields["tx_infos"]) if "tx_infos" in fields else [fields["tx_info"]]
            infos.extend(json.loads(info) for info in raw)
        return infos

    def test_errors_are_classified_by_code_or_by_nonce_text_and_every_kind_has_a_decision(self):
        cases = [(21104, "invalid nonce", TxErrorKind.NONCE), (21105, "batch nonce", TxErrorKind.NONCE),
                 (400, "invalid nonce", TxErrorKind.NONCE), (400, "Invalid Nonce: expected 7", TxErrorKind.NONCE),
                 (23000, "Too Many Requests!", TxErrorKind.BUSY), (21506, "too many pending txs", TxErrorKind.BUSY),
                 (21109, "api key not found", TxErrorKind.KEY), (21709, "order is not active", TxErrorKind.REFUSED),
                 (400, "bad request", TxErrorKind.REFUSED), (None, "No answer", TxErrorKind.UNANSWERED)]

        self.assertEqual([kind for _, _, kind in cases], [classify(code, text) for code, text, _ in cases])
        self.assertEqual(set(TxErrorKind), set(DECISIONS))
        # Only a nonce error depends on the position: behind a failure it is explained by that failure.
        self.assertEqual({TxErrorKind.NONCE: (Action.NONCE_USED, Action.SEND_AGAIN)},
                         {kind: row for kind, row in DECISIONS.items() if row[0] is not row[1]})
        # Nothing that may have executed is failed by the table itself.
        self.assertEqual((Action.SEND_AGAIN, Action.SEND_AGAIN), DECISIONS[TxErrorKind.UNANSWERED])

    async def test_start_reads_the_nonce_once(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(33))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        await self.client.start()
        self.assertEqual(1, self.nonce_reads())
        await self.client.submit(self.create_order(1))

        self.assertEqual(1, self.nonce_reads())
        self.assertEqual([33], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])

    async def test_nonce_unreadable_at_start_is_read_before_the_first_transaction(self):
        self.mock_api.get(NEXT_NONCE_URL, status=503)
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(33))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        await self.client.start()
        await self.client.submit(self.create_order(1))

        self.assertTrue(any(record.getMessage().startswith("Could not read the Lighter nonce yet")
                            for record in self.log_records))
        self.assertEqual(2, self.nonce_reads())
        self.assertEqual([33], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])

    async def test_orders_queued_together_leave_in_one_batch_with_consecutive_nonces(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        hashes = [f"{index:080x}" for index in range(3)]
        self.mock_api.post(SEND_TX_BATCH_URL, body=json.dumps({"code": 200, "tx_hash": hashes}))

        results = await asyncio.gather(*(self.client.submit(self.create_order(index)) for index in (101, 102, 103)))

        self.assertEqual(hashes, list(results))
        (fields,) = self.sent(SEND_TX_BATCH_URL)
        self.assertEqual([CONSTANTS.TX_TYPE_CREATE_ORDER] * 3, json.loads(fields["tx_types"]))
        infos = self.tx_infos(SEND_TX_BATCH_URL)
        self.assertEqual([101, 102, 103], [info["ClientOrderIndex"] for info in infos])
        self.assertEqual([19, 20, 21], [info["Nonce"] for info in infos])
        self.assertEqual({(payloads.ACCOUNT_INDEX, payloads.API_KEY_INDEX)},
                         {(info["AccountIndex"], info["ApiKeyIndex"]) for info in infos})
        self.assertEqual([], self.sent(SEND_TX_URL))
        self.assertEqual(1, self.nonce_reads())

    async def test_batches_hold_at_most_the_exchange_limit(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_BATCH_URL, body=json.dumps(
            {"code": 200, "tx_hash": [f"{i:080x}" for i in range(CONSTANTS.MAX_TX_PER_BATCH)]}))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        count = CONSTANTS.MAX_TX_PER_BATCH + 1
        results = await asyncio.gather(*(self.client.submit(self.create_order(index)) for index in range(1, count + 1)))

        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], results[-1])
        self.assertEqual(CONSTANTS.MAX_TX_PER_BATCH, len(self.tx_infos(SEND_TX_BATCH_URL)))
        self.assertEqual([payloads.NEXT_NONCE + count - 1], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])

    async def test_invalid_nonce_answer_signs_the_transaction_again_at_the_nonce_read(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        # Refused at the API for its nonce, which consumes nothing: another client of the same key used nonces
        # meanwhile and the exchange now expects 40.
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps(payloads.INVALID_NONCE))
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(40), repeat=True)
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK), repeat=True)

        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], await self.client.submit(self.create_order(1)))
        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], await self.client.submit(self.create_order(2)))

        self.assertEqual([(1, 19), (1, 40), (2, 41)],
                         [(info["ClientOrderIndex"], info["Nonce"]) for info in self.tx_infos(SEND_TX_URL)])
        self.assertGreater(self.nonce_reads(), 1)

    async def test_rate_limited_transaction_leaves_again_with_the_same_bytes_and_nonce(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        # HTTP 429 proves nothing about execution: the transaction is in doubt and leaves again as it was.
        self.mock_api.post(SEND_TX_URL, status=429, body="Too Many Requests")
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], await self.client.submit(self.create_order(1)))

        first, second = self.sent(SEND_TX_URL)
        self.assertEqual(first, second)
        self.assertEqual([19, 19], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])
        self.assertEqual(1, self.nonce_reads())

    async def test_timed_out_transaction_whose_resend_meets_a_nonce_error_counts_as_accepted(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, exception=asyncio.TimeoutError())
        # The first send executed: the same bytes again are refused for their nonce, which /nextNonce shows used.
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps(payloads.INVALID_NONCE))
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE + 1), repeat=True)
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))
        signed = []
        sign = self.create_order(7)

        def recording_sign(signer, nonce, api_key_index, skip_nonce):
            signed.append(sign(signer, nonce, api_key_index, skip_nonce))
            return signed[-1]

        tx_hash = await self.client.submit(recording_sign)

        # Signed once; no answer carried a hash, so it is the one the signer computed.
        self.assertEqual(1, len(signed))
        self.assertEqual(signed[0][2], tx_hash)
        self.assertRegex(tx_hash, "^[0-9a-f]{80}$")
        # The next transaction follows at the next nonce, without another read.
        reads = self.nonce_reads()
        await self.client.submit(self.create_order(8))
        self.assertEqual([19, 19, 20], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])
        self.assertEqual(reads, self.nonce_reads())

    async def test_nonce_error_on_a_resend_waits_for_next_nonce_to_show_the_execution(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, status=502)
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps({"code": 400, "message": "invalid nonce"}))
        # The sequencer has not executed it yet, then the reads are throttled, then it shows.
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.get(NEXT_NONCE_URL, status=429, body="Too Many Requests")
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE + 1), repeat=True)
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        await self.client.start()
        first = asyncio.ensure_future(self.client.submit(self.create_order(1)))
        while self.nonce_reads() < 2:
            await asyncio.sleep(0.01)
        # Queued while /nextNonce is watched: it waits, and leaves with the nonce after the executed one.
        behind = await self.client.submit(self.create_order(2))

        self.assertRegex(await first, "^[0-9a-f]{80}$")
        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], behind)
        self.assertEqual([19, 19, 20], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])
        self.assertEqual(4, self.nonce_reads())

    async def test_transaction_never_answered_is_reported_unknown_not_failed(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE), repeat=True)
        self.mock_api.post(SEND_TX_URL, exception=asyncio.TimeoutError(), repeat=True)

        with patch.object(transactions_module, "BUSY_BACKOFF", (0.01,) * 5):
            with self.assertRaises(LighterOutcomeUnknown) as context:
                await self.client.submit(self.create_order(7))

        self.assertEqual("Unknown whether Lighter executed the transaction: No answer from Lighter within 10 s",
                         str(context.exception))
        infos = self.tx_infos(SEND_TX_URL)
        self.assertEqual(transactions_module.MAX_STRIKES, len(infos))
        self.assertEqual(1, len({json.dumps(info, sort_keys=True) for info in infos}))

    async def test_nonce_unreadable_for_the_whole_patience_fails_what_waits_and_is_read_again_later(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps(payloads.INVALID_NONCE))
        self.mock_api.get(NEXT_NONCE_URL, status=502, repeat=True)

        with self.assertRaises(LighterTransactionError):
            await self.client.submit(self.create_order(1))
        with patch.object(transactions_module, "NONCE_READ_PATIENCE", 1.0):
            with self.assertRaises(LighterTransactionError) as context:
                await self.client.submit(self.create_order(2))

        self.assertEqual("Not sent: The Lighter nonce could not be re-read for 1 s (OSError)", str(context.exception))
        self.assertNotIsInstance(context.exception, LighterOutcomeUnknown)
        self.mock_api.clear()
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(25), repeat=True)
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))
        await self.client.submit(self.create_order(3))
        self.assertEqual([19, 25], [info["Nonce"] for info in self.tx_infos(SEND_TX_URL)])

    async def test_signer_refusal_fails_only_that_transaction_and_gives_its_nonce_back(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))

        too_large, valid = await asyncio.gather(
            self.client.submit(self.create_order(CONSTANTS.MAX_CLIENT_ORDER_INDEX + 1)),
            self.client.submit(self.create_order(5)), return_exceptions=True)

        self.assertIsInstance(too_large, LighterTransactionError)
        self.assertIn("The signer refused the transaction: ClientOrderIndex", str(too_large))
        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], valid)
        self.assertEqual([(5, 19)], [(info["ClientOrderIndex"], info["Nonce"])
                                     for info in self.tx_infos(SEND_TX_URL)])

    async def test_refused_batch_that_moved_no_nonce_sends_each_alone_and_fails_only_the_refused_one(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE), repeat=True)
        self.mock_api.post(SEND_TX_BATCH_URL, status=400, body=json.dumps(payloads.ORDER_INACTIVE))
        # Nothing executed, so which one was refused is unknown: alone, the second is refused again.
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps(payloads.ORDER_INACTIVE))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK), repeat=True)

        results = await asyncio.gather(*(self.client.submit(self.create_order(index)) for index in (1, 2, 3)),
                                       return_exceptions=True)

        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], results[0])
        self.assertEqual(21709, results[1].code)
        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], results[2])
        # The refused one gave its nonce back to the one after it.
        self.assertEqual([(1, 19), (2, 20), (3, 20)],
                         [(info["ClientOrderIndex"], info["Nonce"]) for info in self.tx_infos(SEND_TX_URL)])
        await self.client.submit(self.create_order(4))
        self.assertEqual(21, self.tx_infos(SEND_TX_URL)[-1]["Nonce"])

    async def test_a_fault_in_the_recovery_itself_ends_its_frames_and_the_client_goes_on(self):
        """A code fault while deciding a failed frame (injected: the nonce settling raises) must not end the dispatcher:
        the frame's transactions end (part of a refused batch may have executed: unknown), and the next transaction
        is sent at the nonce read again."""
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE), repeat=True)
        self.mock_api.post(SEND_TX_BATCH_URL, status=400, body=json.dumps(payloads.ORDER_INACTIVE))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK), repeat=True)

        with patch.object(self.client, "_settled_nonce", side_effect=RuntimeError("a fault")):
            results = await asyncio.gather(*(self.client.submit(self.create_order(index)) for index in (1, 2)),
                                           return_exceptions=True)
        self.assertEqual([LighterOutcomeUnknown] * 2, [type(result) for result in results])
        self.assertTrue(any("Unexpected error recovering Lighter transactions" in record.getMessage()
                            for record in self.log_records))

        self.assertEqual(payloads.SEND_TX_OK["tx_hash"], await asyncio.wait_for(
            self.client.submit(self.create_order(3)), 5))

    async def test_refused_batch_executed_up_to_the_refused_transaction_sends_the_rest_again(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_BATCH_URL, status=400, body=json.dumps(payloads.ORDER_INACTIVE))
        # The exchange executed the first transaction, refused the second; the last two never ran.
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE + 1), repeat=True)
        self.mock_api.post(SEND_TX_BATCH_URL, body=json.dumps({"code": 200, "tx_hash": ["c" * 80, "d" * 80]}))

        results = await asyncio.gather(*(self.client.submit(self.create_order(index)) for index in (1, 2, 3, 4)),
                                       return_exceptions=True)

        self.assertRegex(results[0], "^[0-9a-f]{80}$")
        self.assertEqual(21709, results[1].code)
        self.assertEqual(["c" * 80, "d" * 80], results[2:])
        self.assertEqual([(1, 19), (2, 20), (3, 21), (4, 22), (3, 20), (4, 21)],
                         [(info["ClientOrderIndex"], info["Nonce"]) for info in self.tx_infos(SEND_TX_BATCH_URL)])

    async def test_unknown_api_key_answer_raises_a_key_error(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, status=400, body=json.dumps(payloads.API_KEY_NOT_FOUND))

        with self.assertRaises(LighterKeyError) as context:
            await self.client.submit(self.create_order(1))

        self.assertEqual(CONSTANTS.CODE_API_KEY_NOT_FOUND, context.exception.code)

    async def test_cancel_cancel_all_and_leverage_transactions(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_BATCH_URL, body=json.dumps({"code": 200, "tx_hash": ["a" * 80, "b" * 80,
                                                                                        "c" * 80]}))

        await asyncio.gather(self.client.submit(self.client.cancel_order(0, 101)),
                             self.client.submit(self.client.cancel_all_orders()),
                             self.client.submit(self.client.update_leverage(0, 500)))

        (fields,) = self.sent(SEND_TX_BATCH_URL)
        self.assertEqual([CONSTANTS.TX_TYPE_CANCEL_ORDER, CONSTANTS.TX_TYPE_CANCEL_ALL_ORDERS,
                          CONSTANTS.TX_TYPE_UPDATE_LEVERAGE], json.loads(fields["tx_types"]))
        cancel, cancel_all, leverage = self.tx_infos(SEND_TX_BATCH_URL)
        self.assertEqual((0, 101), (cancel["MarketIndex"], cancel["Index"]))
        self.assertEqual(CONSTANTS.CANCEL_ALL_IMMEDIATE, cancel_all["TimeInForce"])
        self.assertEqual((0, 500, CONSTANTS.CROSS_MARGIN_MODE),
                         (leverage["MarketIndex"], leverage["InitialMarginFraction"], leverage["MarginMode"]))

    async def test_dead_man_switch_abort_and_schedule_leave_together_at_consecutive_nonces(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_BATCH_URL, body=json.dumps({"code": 200, "tx_hash": ["a" * 80, "b" * 80]}))
        at_ms = 1_790_000_315_000

        await asyncio.gather(self.client.submit(self.client.abort_scheduled_cancel_all()),
                             self.client.submit(self.client.schedule_cancel_all_orders(at_ms)))

        (fields,) = self.sent(SEND_TX_BATCH_URL)
        self.assertEqual([CONSTANTS.TX_TYPE_CANCEL_ALL_ORDERS] * 2, json.loads(fields["tx_types"]))
        abort, schedule = self.tx_infos(SEND_TX_BATCH_URL)
        self.assertEqual((CONSTANTS.CANCEL_ALL_ABORT, 0), (abort["TimeInForce"], abort["Time"]))
        self.assertEqual((CONSTANTS.CANCEL_ALL_SCHEDULED, at_ms), (schedule["TimeInForce"], schedule["Time"]))
        self.assertEqual(abort["Nonce"] + 1, schedule["Nonce"])

    async def test_signing_runs_off_the_event_loop_thread(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        self.mock_api.post(SEND_TX_URL, body=json.dumps(payloads.SEND_TX_OK))
        sign = self.create_order(3)
        threads = []

        def recording_sign(signer, nonce, api_key_index, skip_nonce):
            threads.append(threading.current_thread())
            return sign(signer, nonce, api_key_index, skip_nonce)

        await self.client.submit(recording_sign)

        self.assertEqual(1, len(threads))
        self.assertIsNot(threading.current_thread(), threads[0])
        self.assertTrue(threads[0].name.startswith("lighter-signer"))

    async def test_malformed_private_key_raises_a_clear_error_without_the_key(self):
        for bad_key in ("0x" + "g" * 80, "ab" * 10):
            client = self.create_client(bad_key)

            with self.assertRaises(LighterKeyError) as context:
                await client.start()

            message = str(context.exception)
            self.assertIn("not a valid key", message)
            self.assertNotIn(bad_key.removeprefix("0x"), message)
            self.assertTrue(all(bad_key.removeprefix("0x") not in record.getMessage() for record in self.log_records))
            with self.assertRaises(LighterKeyError):
                await client.submit(self.create_order(1))

    def test_the_key_is_masked_in_any_case_before_it_reaches_a_message(self):
        key = payloads.API_PRIVATE_KEY.removeprefix("0x")
        self.assertEqual("signer said *** / 0x***", self.client._scrub(f"signer said {key.upper()} / 0x{key}"))

    async def test_auth_token_is_cached_and_refreshed_near_expiry(self):
        now = 1_780_000_000.0
        with patch(f"{TRANSACTIONS_MODULE}.time.time", return_value=now):
            first = await self.client.auth_token()
            again = await self.client.auth_token()
        margin_left = now + CONSTANTS.AUTH_TOKEN_LIFETIME - CONSTANTS.AUTH_TOKEN_REFRESH_MARGIN
        with patch(f"{TRANSACTIONS_MODULE}.time.time", return_value=margin_left - 1):
            still = await self.client.auth_token()
        with patch(f"{TRANSACTIONS_MODULE}.time.time", return_value=margin_left + 1):
            refreshed = await self.client.auth_token()

        self.assertIs(first, again)
        self.assertIs(first, still)
        self.assertNotEqual(first, refreshed)
        deadline, account, key, signature = first.split(":")
        self.assertEqual((int(now) + CONSTANTS.AUTH_TOKEN_LIFETIME, payloads.ACCOUNT_INDEX, payloads.API_KEY_INDEX),
                         (int(deadline), int(account), int(key)))
        self.assertRegex(signature, "^[0-9a-f]{160}$")
        self.assertEqual(int(margin_left + 1) + CONSTANTS.AUTH_TOKEN_LIFETIME, int(refreshed.split(":")[0]))
        self.assertEqual(0, len(self.mock_api.requests))

    async def test_stop_fails_transactions_still_queued(self):
        self.mock_api.get(NEXT_NONCE_URL, body=nonce_body(payloads.NEXT_NONCE))
        await self.client.start()
        # Queued but not yet taken by the dispatcher, as when the connector stops in between.
        future = asyncio.get_running_loop().create_future()
        self.client._queue.append(_PendingTx(sign=self.create_order(1), future=future))

        await self.client.stop()

        with self.assertRaises(LighterTransactionError):
            future.result()
        self.assertIsNone(self.client._signer)


class LighterTransactionSocketTests(unittest.IsolatedAsyncioTestCase):
    """The WebSocket transport against the local emulator, with the real signer."""

    async def asyncSetUp(self):
        await fresh_shared_session()
        self.ex = LighterEmulator(port=0)
        await self.ex.start()
        self.addAsyncCleanup(self.ex.stop)
        self.account, self.key_index, private_key = self.ex.create_account_with_api_key(
            collateral=Decimal("100000"), api_key_index=3)
        env = patch.dict(os.environ, {CONSTANTS.REST_URL_ENV_VAR: self.ex.rest_url,
                                      CONSTANTS.WSS_URL_ENV_VAR: self.ex.ws_url})
        env.start()
        self.addCleanup(env.stop)
        self.factory = web_utils.build_api_factory(throttler=web_utils.create_throttler("Premium"))
        self.client = LighterTransactionClient(api_factory=self.factory, account_index=self.account,
                                               api_key_index=self.key_index, api_private_key=private_key)
        self.addAsyncCleanup(ConnectionsFactory().close)
        self.addAsyncCleanup(self.client.stop)

    def order(self, client_order_index: int):
        return self.client.create_order(market_index=0, client_order_index=client_order_index, base_amount=1000,
                                        price=200000 - client_order_index, is_ask=False,
                                        order_type=CONSTANTS.ORDER_TYPE_LIMIT,
                                        time_in_force=CONSTANTS.TIME_IN_FORCE_GTT, reduce_only=False,
                                        order_expiry=-1)

    def frames(self):
        return [r for r in self.ex.state.requests if r.transport == "ws" and r.method.startswith("jsonapi/")]

    def rest_sends(self):
        return [r for r in self.ex.state.requests
                if r.transport == "rest" and r.path.endswith((CONSTANTS.SEND_TX_PATH, CONSTANTS.SEND_TX_BATCH_PATH))]

    def resting(self):
        return sorted(o.client_order_index for o in self.ex.state.accounts[self.account].active_orders.values())

    async def test_batches_leave_back_to_back_and_are_answered_within_one_round_trip(self):
        await self.client.start()
        self.ex.latency_ms = 200
        started = time.monotonic()

        hashes = await asyncio.gather(*(self.client.submit(self.order(index)) for index in range(1, 21)))

        elapsed = time.monotonic() - started
        self.assertEqual(20, len(set(hashes)))
        self.assertEqual(list(range(1, 21)), self.resting())
        first, second = self.frames()
        self.assertEqual(["jsonapi/sendtxbatch"] * 2, [first.method, second.method])
        self.assertEqual([15, 5], [len(json.loads(frame.form["data"]["tx_infos"])) for frame in (first, second)])
        # The second batch left before the first was answered: both answered after one latency, not two.
        self.assertLess(second.received_ms - first.received_ms, 200)
        self.assertLess(elapsed, 0.39)
        self.assertEqual([], self.rest_sends())
        throttled = [log.rate_limit.limit_id for log in self.factory.throttler._task_logs]
        self.assertEqual(2, throttled.count(CONSTANTS.SEND_TX_BATCH_PATH))

    async def test_a_batch_refused_for_its_nonce_and_the_one_behind_it_are_signed_again_and_placed_once(self):
        await self.client.start()
        self.ex.latency_ms = 100
        self.ex.faults.nonce_errors(1)  # refused at the API: no nonce consumed, nothing executed
        before = self.executed()

        results = await asyncio.gather(*(self.client.submit(self.order(index)) for index in range(1, 21)),
                                       return_exceptions=True)

        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results), results)
        self.assertEqual(list(range(1, 21)), self.resting())
        self.assertEqual(20, self.executed() - before)
        # The episode is over: the next order leaves with the next nonce at once.
        await self.client.submit(self.order(21))
        self.assertEqual(list(range(1, 22)), self.resting())

    async def test_a_cancel_refused_as_not_active_at_the_head_of_a_batch_fails_only_itself(self):
        await self.client.start()
        before = self.executed()

        results = await asyncio.gather(self.client.submit(self.client.cancel_order(0, 999)),
                                       *(self.client.submit(self.order(index)) for index in (1, 2, 3)),
                                       return_exceptions=True)

        self.assertEqual(CONSTANTS.CODE_ORDER_NOT_ACTIVE, getattr(results[0], "code", None), results)
        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results[1:]), results)
        self.assertEqual([1, 2, 3], self.resting())
        self.assertEqual(3, self.executed() - before)

    async def test_many_refused_cancels_in_one_burst_never_fail_nor_slow_the_orders_behind_them(self):
        await self.client.start()
        # Six cancels of orders Lighter does not have, each ahead of an order, in one burst (a strategy cancelling
        # orders that already filled). Each refusal frees its nonce, and every transaction behind it meets a nonce
        # error: that is the refused one's failure, not theirs, so it neither counts towards their MAX_STRIKES nor
        # makes them wait a back-off.
        started = time.monotonic()
        results = await asyncio.gather(*(self.client.submit(self.client.cancel_order(0, 990 + index) if index % 2
                                                            else self.order(index)) for index in range(1, 13)),
                                       return_exceptions=True)

        self.assertTrue(all(getattr(result, "code", None) == CONSTANTS.CODE_ORDER_NOT_ACTIVE
                            for result in results[::2]), results)
        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results[1::2]), results)
        self.assertEqual([2, 4, 6, 8, 10, 12], self.resting())
        # About 0.7 s (one 0.5 s settle of /nextNonce after the refused batch); with a back-off growing after each
        # refusal it took 4.2 s.
        self.assertLess(time.monotonic() - started, 2.5)

    async def test_lost_frame_is_sent_again_as_it_was_then_rest_carries_until_the_socket_reopens(self):
        await self.client.start()
        self.ex.faults.add("tx:14", timeout_ms=1, count=1)  # never executed, never answered

        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3), \
                patch.object(transactions_module, "STALLED_SOCKET_PAUSE", 1.5):
            self.assertRegex(await self.client.submit(self.order(1)), "^[0-9a-f]{80}$")
            await self.client.submit(self.order(2))
            self.assertEqual([CONSTANTS.SEND_TX_PATH] * 2, [r.path.removeprefix(CONSTANTS.API_VERSION)
                                                            for r in self.rest_sends()])
            await asyncio.sleep(1.5)
            await self.client.submit(self.order(3))

        self.assertEqual([1, 2, 3], self.resting())
        self.assertEqual([1, 1, 2, 3], self.sent_client_indexes())
        lost, again = [r.form["data"]["tx_info"] for r in self.frames()[:1]] + [self.rest_sends()[0].form["tx_info"]]
        self.assertEqual(lost, json.loads(again))
        self.assertEqual(2, len(self.rest_sends()))
        self.assertEqual(2, sum(1 for r in self.ex.state.requests if r.path == "/stream"))

    async def test_connection_lost_with_a_frame_in_the_air(self):
        await self.client.start()
        self.ex.latency_ms = 300
        pending = asyncio.ensure_future(self.client.submit(self.order(1)))
        await asyncio.sleep(0.1)
        before = self.executed()
        self.ex.faults.close_websockets()

        # Executed or not when the connection went, it is sent again as it was and placed once.
        self.assertRegex(await pending, "^[0-9a-f]{80}$")
        self.ex.latency_ms = 0
        await self.client.submit(self.order(2))
        self.assertEqual([1, 2], self.resting())
        self.assertEqual(2, self.executed() - before)

    async def test_rest_carries_transactions_while_the_socket_cannot_open(self):
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        self.client.logger().addHandler(handler)
        self.addCleanup(self.client.logger().removeHandler, handler)
        with patch.dict(os.environ, {CONSTANTS.WSS_URL_ENV_VAR: "ws://127.0.0.1:9/stream"}):
            await self.client.start()
            await asyncio.gather(self.client.submit(self.order(1)), self.client.submit(self.order(2)))

        self.assertEqual([1, 2], self.resting())
        self.assertEqual([], self.frames())
        self.assertEqual([f"/api/v1{CONSTANTS.SEND_TX_BATCH_PATH}"], [r.path for r in self.rest_sends()])
        self.assertEqual(1, sum("go over REST for now" in record.getMessage() for record in records))

    def use_one_transaction_per_second(self):
        """A real throttler allowing one transaction per second, to hold the second batch in front of it."""
        limits = [RateLimit(limit_id=CONSTANTS.TX_LIMIT, limit=1, time_interval=1.0)
                  if limit.limit_id == CONSTANTS.TX_LIMIT else limit for limit in CONSTANTS.rate_limits("Premium")]
        self.factory = web_utils.build_api_factory(throttler=AsyncThrottler(limits))
        self.client._api_factory = self.factory

    async def test_stop_while_a_batch_waits_for_the_throttler_ends_it_unsent(self):
        self.use_one_transaction_per_second()
        await self.client.start()
        await self.client.submit(self.order(1))
        waiting = asyncio.ensure_future(self.client.submit(self.order(2)))
        await asyncio.sleep(0.2)

        await self.client.stop()

        with self.assertRaises(LighterTransactionError) as context:
            await asyncio.wait_for(waiting, 1)
        self.assertEqual("The connector stopped before sending.", str(context.exception))
        self.assertEqual([1], self.resting())

    async def test_socket_lost_while_a_batch_waits_for_the_throttler_signs_it_again(self):
        self.use_one_transaction_per_second()
        await self.client.start()
        self.ex.latency_ms = 300
        in_the_air = asyncio.ensure_future(self.client.submit(self.order(1)))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(self.client.submit(self.order(2)))
        await asyncio.sleep(0.1)

        self.ex.faults.close_websockets()
        lost, sent = await asyncio.gather(in_the_air, waiting, return_exceptions=True)

        # The frame in the air was dropped with the connection and the waiting batch never left: both go out again.
        self.assertRegex(lost, "^[0-9a-f]{80}$")
        self.assertRegex(sent, "^[0-9a-f]{80}$")
        self.assertEqual([1, 2], self.resting())

    async def test_batch_refused_for_a_nonce_another_program_used_is_signed_again_at_the_nonce_read(self):
        await self.client.start()
        # A second program on the same API key uses the nonces this client expects.
        other = LighterTransactionClient(api_factory=web_utils.build_api_factory(), account_index=self.account,
                                         api_key_index=self.key_index, api_private_key=self.client._private_key)
        await other.submit(other.create_order(0, 900, 1000, 190000, False, CONSTANTS.ORDER_TYPE_LIMIT,
                                              CONSTANTS.TIME_IN_FORCE_GTT, False, -1))
        await other.stop()

        results = await asyncio.gather(*(self.client.submit(self.order(index)) for index in (1, 2, 3)),
                                       return_exceptions=True)

        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results), results)
        await self.client.submit(self.order(4))
        self.assertEqual([1, 2, 3, 4, 900], self.resting())

    async def test_stop_while_an_unanswered_frame_is_sent_again_reports_it_unknown(self):
        await self.client.start()
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", timeout_ms=1, count=1)
        self.ex.faults.add(CONSTANTS.API_VERSION + CONSTANTS.SEND_TX_PATH, latency_ms=2000)
        with patch.object(transactions_module, "SEND_TIMEOUT", 0.2):
            pending = asyncio.ensure_future(self.client.submit(self.order(1)))
            await asyncio.sleep(0.4)  # unanswered over the socket, now sent again over REST

            await self.client.stop()

        with self.assertRaises(LighterOutcomeUnknown):
            await asyncio.wait_for(pending, 1)

    async def test_stop_lets_a_frame_in_the_air_be_answered(self):
        await self.client.start()
        self.ex.latency_ms = 300
        in_the_air = asyncio.ensure_future(self.client.submit(self.order(1)))
        await asyncio.sleep(0.05)

        await self.client.stop()

        self.assertRegex(await in_the_air, "^[0-9a-f]{80}$")
        self.assertEqual([1], self.resting())

    async def test_answers_without_an_id_are_matched_in_order_and_an_anonymous_error_lets_the_nonce_decide(self):
        await self.client.start()
        self.ex.faults.answer_ids = False

        hashes = await asyncio.gather(*(self.client.submit(self.order(index)) for index in range(1, 21)))
        self.assertEqual(20, len(set(hashes)))

        # An error that names no frame leaves the oldest in doubt: it is sent again as it was, and placed.
        self.ex.faults.nonce_errors(1)
        await self.client.submit(self.order(21))
        await self.client.submit(self.order(22))
        self.assertEqual(list(range(1, 23)), self.resting())
        self.assertEqual(2, self.sent_client_indexes().count(21))

    # --- no cascades: one failure never fails transactions that did not fail themselves ---------------------------

    def executed(self) -> int:
        """Transactions the emulator executed so far (one block each)."""
        return self.ex.state.block_height

    def sent_client_indexes(self) -> List[int]:
        """ClientOrderIndex of every create sent, over the socket or REST, as often as it was sent."""
        indexes = []
        for request in self.ex.state.requests:
            if request.transport == "ws" and request.method.startswith("jsonapi/"):
                fields = request.form["data"]
            elif request.transport == "rest" and request.path.endswith((CONSTANTS.SEND_TX_PATH,
                                                                        CONSTANTS.SEND_TX_BATCH_PATH)):
                fields = request.form
            else:
                continue
            infos = json.loads(fields["tx_infos"]) if "tx_infos" in fields else [fields["tx_info"]]
            infos = [json.loads(info) if isinstance(info, str) else info for info in infos]
            indexes.extend(info["ClientOrderIndex"] for info in infos if "ClientOrderIndex" in info)
        return indexes

    async def use_key_elsewhere(self, client_order_index: int = 900):
        """A second program on the same API key uses the nonce this client expects next."""
        other = LighterTransactionClient(api_factory=web_utils.build_api_factory(), account_index=self.account,
                                         api_key_index=self.key_index, api_private_key=self.client._private_key)
        await other.submit(other.create_order(0, client_order_index, 1000, 190000, False, CONSTANTS.ORDER_TYPE_LIMIT,
                                              CONSTANTS.TIME_IN_FORCE_GTT, False, -1))
        await other.stop()

    async def test_nonce_error_answered_as_code_400_signs_the_transaction_again_at_the_nonce_read(self):
        await self.client.start()
        self.ex.faults.nonce_error = (400, "invalid nonce")  # lighter-python issue #60
        await self.use_key_elsewhere()

        self.assertRegex(await self.client.submit(self.order(1)), "^[0-9a-f]{80}$")

        # Not the refused nonce again: the one the exchange expects, read from it.
        await self.client.submit(self.order(2))
        self.assertEqual([1, 2, 900], self.resting())
        self.assertEqual([900, 1, 1, 2], self.sent_client_indexes())

    async def test_error_frame_without_id_with_several_frames_in_flight_fails_only_its_own(self):
        await self.client.start()
        self.ex.latency_ms = 100
        self.ex.faults.answer_ids = False
        self.ex.faults.error_object = True
        self.ex.faults.nonce_errors(1)
        before = self.executed()
        first = asyncio.ensure_future(self.client.submit(self.order(1)))
        await asyncio.sleep(0.03)
        second = asyncio.ensure_future(asyncio.gather(*(self.client.submit(self.order(i)) for i in (2, 3))))
        await asyncio.sleep(0.03)
        third = await self.client.submit(self.order(4))

        # The id-less error is taken as the oldest frame's and leaves it in doubt: sent again, it is placed.
        self.assertRegex(await first, "^[0-9a-f]{80}$")
        self.assertEqual(3, len(set(await second) | {third}))
        self.assertEqual([1, 2, 3, 4], self.resting())
        self.assertEqual(4, self.executed() - before)

    async def test_refused_batch_behind_an_accepted_one_while_next_nonce_lags_fails_no_executed_order(self):
        await self.client.start()
        await self.client.submit(self.order(50))
        self.ex.faults.next_nonce_lag_ms = 350
        before = self.executed()
        # 1..15 leave in one batch; [16, 50, 17] in the next, refused at 50 (already resting) after 16 executed.
        indexes = list(range(1, 17)) + [50, 17]

        results = await asyncio.gather(*(self.client.submit(self.order(i)) for i in indexes), return_exceptions=True)

        self.assertTrue(all(isinstance(result, str) for result in results[:16]), results[:16])
        self.assertIsInstance(results[16], LighterTransactionError)
        self.assertIn("client order index", str(results[16]).lower())
        self.assertIsInstance(results[17], str)
        self.assertEqual(list(range(1, 18)) + [50], self.resting())
        self.assertEqual(17, self.executed() - before)

    async def assert_busy_batch_behind_an_accepted_one_leaves_again(self, disconnect: bool):
        await self.client.start()
        self.ex.latency_ms = 100
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CANCEL_ORDER}", code=CONSTANTS.CODE_TOO_MANY_REQUESTS, count=1,
                           disconnect=disconnect)
        creates = asyncio.ensure_future(asyncio.gather(*(self.client.submit(self.order(i)) for i in range(1, 16))))
        await asyncio.sleep(0.02)
        cancels = asyncio.ensure_future(asyncio.gather(*(self.client.submit(self.client.cancel_order(0, i))
                                                         for i in (1, 2, 3))))
        await asyncio.sleep(0.02)
        behind = await asyncio.gather(*(self.client.submit(self.order(i)) for i in (16, 17)))

        self.assertEqual(15, len(set(await creates)))
        self.assertEqual(3, len(await cancels))
        self.assertEqual(2, len(set(behind)))
        self.assertEqual(list(range(4, 18)), self.resting())

    async def test_batch_refused_as_too_many_requests_behind_an_accepted_one_backs_off_and_leaves_again(self):
        await self.assert_busy_batch_behind_an_accepted_one_leaves_again(disconnect=False)

    async def test_too_many_requests_that_closes_the_socket_fails_nothing(self):
        await self.assert_busy_batch_behind_an_accepted_one_leaves_again(disconnect=True)

    async def test_too_many_pending_transactions_backs_off_and_leaves_again(self):
        await self.client.start()
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", code=CONSTANTS.CODE_TOO_MANY_PENDING_TXS, count=2)
        started = time.monotonic()

        await self.client.submit(self.order(1))

        # Two refusals, two pauses (0.5 s, then 1 s) before it left a third time.
        self.assertGreaterEqual(time.monotonic() - started, 1.5)
        self.assertEqual([1, 1, 1], self.sent_client_indexes())
        self.assertEqual([1], self.resting())

    async def test_frame_held_past_the_timeout_that_then_executes_fails_nothing_and_runs_everything_once(self):
        await self.client.start()
        before = self.executed()
        # Scaled down from the soak: held 11 s against a 10 s timeout; here it executes 3 s after its timeout, later
        # than any wait for /nextNonce to settle.
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", hold_ms=4000, count=1)
        with patch.object(transactions_module, "SEND_TIMEOUT", 1.0):
            held = asyncio.ensure_future(self.client.submit(self.order(1)))
            await asyncio.sleep(0.05)
            behind = await asyncio.gather(*(self.client.submit(self.order(i)) for i in range(2, 27)))

            self.assertRegex(await held, "^[0-9a-f]{80}$")
            await asyncio.sleep(3.2)  # the held frame meets the nonce its copy used

        self.assertEqual(25, len(set(behind)))
        self.assertEqual(list(range(1, 27)), self.resting())
        self.assertEqual(26, self.executed() - before)
        # The held frame reached the exchange twice (the copy sent after its timeout executed first); the frames
        # queued behind it on the socket, once: the first time, they were dropped with the connection.
        self.assertEqual([2] + [1] * 25, [self.sent_client_indexes().count(i) for i in range(1, 27)])

    async def test_answer_lost_after_execution_while_next_nonce_lags_is_accepted_once(self):
        await self.client.start()
        self.ex.faults.next_nonce_lag_ms = 350
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", answer_lost=True, count=1)
        before = self.executed()
        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3):
            executed = await self.client.submit(self.order(1))
            after = await self.client.submit(self.order(2))

        # The copy was refused for the nonce the first send used: accepted, with the hash the signer computed.
        self.assertRegex(executed, "^[0-9a-f]{80}$")
        self.assertNotEqual(executed, after)
        self.assertEqual([1, 2], self.resting())
        self.assertEqual(2, self.executed() - before)
        self.assertEqual([1, 1, 2], self.sent_client_indexes())

    async def test_unanswered_middle_of_three_frames_runs_each_exactly_once(self):
        await self.client.start()
        before = self.executed()
        with patch.object(transactions_module, "SEND_TIMEOUT", 0.5):
            first = await self.client.submit(self.order(1))
            # The second frame is lost; the third, sent while it is in the air, is refused for its nonce. Both leave
            # again at their nonces.
            self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", timeout_ms=1, count=1)
            second = asyncio.ensure_future(self.client.submit(self.order(2)))
            await asyncio.sleep(0.02)
            third = await self.client.submit(self.order(3))
            results = [first, await second, third]

        self.assertEqual(3, len(set(results)))
        self.assertEqual([1, 2, 3], self.resting())
        self.assertEqual(3, self.executed() - before)
        self.assertEqual([1, 2, 3, 2, 3], self.sent_client_indexes())

    async def test_lost_batch_is_sent_again_whole_at_the_same_nonces(self):
        await self.client.start()
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", timeout_ms=1, count=1)
        before = self.executed()

        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3):
            hashes = await asyncio.gather(*(self.client.submit(self.order(i)) for i in (1, 2, 3)))

        self.assertEqual(3, len(set(hashes)))
        self.assertEqual([1, 2, 3], self.resting())
        self.assertEqual(3, self.executed() - before)
        lost, = self.frames()
        again, = self.rest_sends()
        self.assertEqual(lost.form["data"]["tx_infos"], again.form["tx_infos"])

    # --- in doubt: never holding the key, never left unknown where a nonce decides ------------------------------------

    def sent_infos(self, client_order_index: int) -> List[dict]:
        """The tx_info of every send of the create with this ClientOrderIndex, in the order they were sent."""
        infos = []
        for request in self.ex.state.requests:
            if request.transport == "ws" and request.method.startswith("jsonapi/"):
                fields = request.form["data"]
            elif request.transport == "rest" and request.path.endswith((CONSTANTS.SEND_TX_PATH,
                                                                        CONSTANTS.SEND_TX_BATCH_PATH)):
                fields = request.form
            else:
                continue
            sent = json.loads(fields["tx_infos"]) if "tx_infos" in fields else [fields["tx_info"]]
            infos.extend(info for info in (json.loads(i) if isinstance(i, str) else i for i in sent)
                         if info.get("ClientOrderIndex") == client_order_index)
        return infos

    async def test_orders_in_doubt_behind_a_refused_cancel_are_signed_again_at_their_own_nonces_and_placed_once(self):
        await self.client.start()
        first_nonce = self.ex.txs.reported_next_nonce(self.account, self.ex.state.accounts[self.account].api_keys[3])
        # The frame [cancel of an order that is not active, three creates] is lost: it may still execute, for all the
        # client knows. Sent again, the cancel is refused and nothing of the batch runs: its nonce is freed, in front
        # of three creates whose earlier send is in doubt.
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CANCEL_ORDER}", timeout_ms=1, count=1)
        before = self.executed()

        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3):
            results = await asyncio.gather(self.client.submit(self.client.cancel_order(0, 999)),
                                           *(self.client.submit(self.order(index)) for index in (1, 2, 3)),
                                           return_exceptions=True)

        self.assertIsInstance(results[0], LighterTransactionError)
        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results[1:]), results)
        self.assertEqual([1, 2, 3], self.resting())
        self.assertEqual(3, self.executed() - before)
        for index in (1, 2, 3):
            lost, again, last = self.sent_infos(index)
            # Signed again at the nonce it was first sent at: of the two, at most one can execute. Only the first
            # passes the freed nonce with SkipTxNonce; the others follow it in order, so none can pass over another.
            self.assertEqual(first_nonce + index, last["Nonce"])
            self.assertEqual(lost["Nonce"], last["Nonce"])
            self.assertIsNone(lost["L2TxAttributes"])
            self.assertEqual({"4": 1} if index == 1 else None, last["L2TxAttributes"])
        # The freed nonce stays unused; the next order leaves after the last create's nonce.
        await self.client.submit(self.order(4))
        self.assertEqual(first_nonce + 4, self.sent_infos(4)[-1]["Nonce"])
        self.assertEqual([1, 2, 3, 4], self.resting())

    async def test_a_transaction_reported_unknown_does_not_hold_the_key_the_next_one_takes_its_unused_nonce(self):
        await self.client.start()
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", timeout_ms=1, count=2)  # both sends lost

        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3), \
                patch.object(transactions_module, "MAX_STRIKES", 2):
            with self.assertRaises(LighterOutcomeUnknown) as unknown:
                await self.client.submit(self.order(1))
            await self.client.submit(self.order(2))

        self.assertEqual([2], self.resting())
        # Order 1's transaction can now never execute: its nonce is taken, which is what decides its order.
        self.assertEqual(unknown.exception.nonce, self.sent_infos(2)[-1]["Nonce"])
        self.assertGreater(await self.client.fetch_next_nonce(), unknown.exception.nonce)

    async def test_the_next_transaction_takes_the_highest_unknown_nonce_so_every_unknown_one_is_decided_at_once(self):
        await self.client.start()
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", timeout_ms=1)  # every send lost, never executed

        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3), \
                patch.object(transactions_module, "MAX_STRIKES", 2):
            unknown = await asyncio.gather(self.client.submit(self.order(1)), self.client.submit(self.order(2)),
                                           return_exceptions=True)
            self.assertTrue(all(isinstance(result, LighterOutcomeUnknown) for result in unknown), unknown)
            first, second = (result.nonce for result in unknown)
            self.assertEqual(first + 1, second)
            self.assertEqual(first, await self.client.fetch_next_nonce())
            self.ex.faults.clear()
            await self.client.submit(self.order(3))

        # Taking only the lowest free nonce would leave order 2's transaction able to execute until some later one came.
        taking, = self.sent_infos(3)
        self.assertEqual(second, taking["Nonce"])
        self.assertEqual({"4": 1}, taking["L2TxAttributes"])  # nonce `first` is passed over
        self.assertEqual([3], self.resting())
        self.assertGreater(await self.client.fetch_next_nonce(), second)
        self.assertTrue(self.client.nonce_taken(first) and self.client.nonce_taken(second))
        # Then nonces run on as usual.
        await self.client.submit(self.order(4))
        following, = self.sent_infos(4)
        self.assertEqual(second + 1, following["Nonce"])
        self.assertIsNone(following["L2TxAttributes"])
        self.assertEqual([3, 4], self.resting())

    async def test_one_refused_of_a_run_signed_again_at_their_nonces_is_not_passed_over_by_the_next(self):
        await self.client.start()
        # [refused cancel, create 1, create 2] is lost; sent again, the cancel is refused: creates 1 and 2, in doubt,
        # are signed again at their own nonces and leave alone. Create 1 is refused as busy. Had create 2 been signed
        # with SkipTxNonce too, it would have executed past create 1's nonce, which then could never execute (its
        # order failed for another's fault); it follows create 1 in order instead, so both are placed.
        self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CANCEL_ORDER}", timeout_ms=1, count=1)

        take, cancels_taken = self.ex.faults.take, []

        def busy_once_after_the_loss(targets):
            # Armed once the batch's second sending is taken, not by a timer: under load a timer could fire after
            # create 1 had already been sent again.
            rules = take(targets)
            if f"tx:{CONSTANTS.TX_TYPE_CANCEL_ORDER}" in targets:
                cancels_taken.append(targets)
                if len(cancels_taken) == 2:
                    self.ex.faults.add(f"tx:{CONSTANTS.TX_TYPE_CREATE_ORDER}", code=21506, count=1)
                    self.ex.latency_ms = 100  # answers come after the three frames left
            return rules

        self.ex.faults.take = busy_once_after_the_loss
        # The socket is reopened at once, so the two creates are in the air together.
        with patch.object(transactions_module, "SEND_TIMEOUT", 0.3), \
                patch.object(transactions_module, "STALLED_SOCKET_PAUSE", 0), \
                patch.object(transactions_module, "BUSY_BACKOFF", (0.05,) * 5):
            results = await asyncio.gather(self.client.submit(self.client.cancel_order(0, 999)),
                                           *(self.client.submit(self.order(index)) for index in (1, 2)),
                                           return_exceptions=True)

        self.assertEqual([1, 2], self.resting())
        self.assertTrue(all(isinstance(tx_hash, str) for tx_hash in results[1:]), results)
        self.assertEqual({"4": 1}, self.sent_infos(1)[-1]["L2TxAttributes"])
        self.assertIsNone(self.sent_infos(2)[-1]["L2TxAttributes"])
