import asyncio
import json
import re
import threading
import time
from decimal import Decimal
from unittest import IsolatedAsyncioTestCase
from unittest.mock import patch

from aioresponses import aioresponses
from x10.config import MAINNET_CONFIG, TESTNET_CONFIG

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_parsers as parsers,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_auth import ExtendedPerpetualAuth
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_transactions import (
    UNAUTHORIZED_MESSAGE,
    ExtendedApiError,
    ExtendedKeyError,
    ExtendedNotFoundError,
    ExtendedNotSentError,
    ExtendedOutcomeUnknownError,
    ExtendedTransactionClient,
    MaxAge,
    OrderRequest,
)
from hummingbot.core.api_throttler.async_throttler import AsyncThrottler
from hummingbot.core.api_throttler.data_types import RateLimit
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from test.hummingbot.connector.derivative.extended_perpetual import extended_perpetual_test_helpers as helpers

MARKET_ENTRY = helpers.payload_objects("extended_10_markets.txt")[0]["data"][0]


def order_request(**kwargs) -> OrderRequest:
    values = dict(market="BTC-USD", is_buy=True, amount=Decimal("0.001"), price=Decimal("76000"), is_market=False,
                  post_only=False, reduce_only=False, external_id="HBBBCUD1", max_fee=Decimal("0.0005"))
    values.update(kwargs)
    return OrderRequest(**values)


class TransactionClientTests(helpers.IsolatedConnections, IsolatedAsyncioTestCase):
    def client(self, private_key=helpers.STARK_PRIVATE_KEY, public_key=helpers.STARK_PUBLIC_KEY,
               api_key=helpers.API_KEY, vault=helpers.VAULT, domain=CONSTANTS.DEFAULT_DOMAIN, throttler=None):
        auth = ExtendedPerpetualAuth(api_key)
        client = ExtendedTransactionClient(web_utils.build_api_factory(throttler=throttler, auth=auth), api_key=api_key,
                                           stark_private_key=private_key, stark_public_key=public_key, vault=vault,
                                           domain=domain)
        client.register_market(parsers.parse_market(MARKET_ENTRY))
        return client

    def sdk_market(self):
        # The live entry predates these fields; the SDK model requires them.
        return helpers.sdk_market_model(dict(MARKET_ENTRY, type="PERPETUAL", isRfq=False, isOffHours=False,
                                             tradingHours="CONTINUOUS"))

    def test_credentials_are_checked_with_one_clear_sentence(self):
        cases = {
            ("0x", helpers.STARK_PUBLIC_KEY): "The Stark private key is not a valid key",
            ("7c" * 31, helpers.STARK_PUBLIC_KEY): "The Stark private key is not a valid key",
            ("0x" + "g" * 10, helpers.STARK_PUBLIC_KEY): "The Stark private key is not a valid key",
            ("0x0", helpers.STARK_PUBLIC_KEY): "The Stark private key is not a valid key",
            (hex(CONSTANTS.STARK_CURVE_ORDER), helpers.STARK_PUBLIC_KEY): "The Stark private key is not a valid key",
            (helpers.STARK_PRIVATE_KEY, "not-a-key"): "The Stark public key is not a valid key",
            (helpers.STARK_PRIVATE_KEY, hex(int(helpers.STARK_PUBLIC_KEY, 16) + 1)):
                "The Stark public key does not belong to the Stark private key",
        }
        for (private_key, public_key), sentence in cases.items():
            with self.assertRaises(ExtendedKeyError) as error:
                self.client(private_key=private_key, public_key=public_key).check_credentials()
            self.assertTrue(str(error.exception).startswith(sentence), (private_key, str(error.exception)))
            self.assertEqual(1, str(error.exception).count(". ") + 1, "one sentence")
            if len(private_key) > 8:
                self.assertNotIn(private_key[2:], str(error.exception))
        with self.assertRaises(ExtendedKeyError) as error:
            self.client(api_key="").check_credentials()
        self.assertIn("API key is empty", str(error.exception))
        for vault in (0, "-1", "abc"):
            with self.assertRaises(ExtendedKeyError) as error:
                self.client(vault=vault).check_credentials()
            self.assertIn("vault number must be a positive whole number", str(error.exception))
        self.client().check_credentials()

    def test_signed_order_verifies_with_the_sdk_hash(self):
        body = self.client().sign_order(order_request())
        self.assertTrue(helpers.order_signature_valid(body, self.sdk_market(), helpers.STARK_PUBLIC_KEY,
                                                      helpers.VAULT, MAINNET_CONFIG.signing.starknet_domain))
        self.assertEqual(("HBBBCUD1", "BTC-USD", "LIMIT", "BUY", "GTT", False, False, "0.0005"),
                         (body["id"], body["market"], body["type"], body["side"], body["timeInForce"],
                          body["postOnly"], body["reduceOnly"], body["fee"]))
        # The same fields as the SDK's own request (payload extended_15), apart from those it leaves out when unset.
        reference = helpers.payload_objects("extended_15_create_order.txt")[0]
        self.assertEqual({key for key, value in reference.items() if value is not None}, set(body))
        self.assertNotIn(helpers.STARK_PRIVATE_KEY[2:], json.dumps(body))
        # Whole seconds, about 89 days ahead (mainnet allows 90).
        self.assertEqual(0, body["expiryEpochMillis"] % 1000)

    def test_market_ioc_reduce_only_and_testnet_domain(self):
        body = self.client(domain=CONSTANTS.TESTNET_DOMAIN).sign_order(
            order_request(is_market=True, is_buy=False, reduce_only=True))
        self.assertEqual(("MARKET", "IOC", True, "SELL"), (body["type"], body["timeInForce"], body["reduceOnly"],
                                                           body["side"]))
        self.assertTrue(helpers.order_signature_valid(body, self.sdk_market(), helpers.STARK_PUBLIC_KEY,
                                                      helpers.VAULT, TESTNET_CONFIG.signing.starknet_domain))
        self.assertFalse(helpers.order_signature_valid(body, self.sdk_market(), helpers.STARK_PUBLIC_KEY,
                                                       helpers.VAULT, MAINNET_CONFIG.signing.starknet_domain))

    def test_unknown_market_and_sdk_refusals_are_clear(self):
        with self.assertRaises(ExtendedApiError) as error:
            self.client().sign_order(order_request(market="DOGE-USD"))
        self.assertIn("DOGE-USD is not known yet", str(error.exception))
        with self.assertRaises(ExtendedApiError) as error:
            self.client().sign_order(order_request(is_market=True, post_only=True))
        self.assertIn("could not be signed", str(error.exception))

    @aioresponses()
    async def test_orders_are_signed_on_the_worker_thread_and_posted(self, mock_api):
        client = self.client()
        threads = []
        sign = client.sign_order

        def recording_sign(order):
            threads.append(threading.current_thread().name)
            return sign(order)

        url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH)
        mock_api.post(url, body=json.dumps(helpers.payload_objects("extended_15_create_order.txt")[1]))
        with patch.object(client, "sign_order", recording_sign):
            exchange_id = await client.place_order(order_request())
        self.assertEqual("2051479786538188800", exchange_id)
        self.assertEqual(1, len(threads))
        self.assertTrue(threads[0].startswith("extended-signer"))
        self.assertNotEqual(threading.current_thread().name, threads[0])
        request = next(iter(mock_api.requests.values()))[0]
        self.assertEqual(helpers.API_KEY, request.kwargs["headers"][CONSTANTS.API_KEY_HEADER])
        self.assertEqual(CONSTANTS.USER_AGENT, request.kwargs["headers"]["User-Agent"])

    @aioresponses()
    async def test_order_post_without_an_answer_has_an_unknown_outcome(self, mock_api):
        client = self.client()
        url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH)
        server_error = json.dumps({"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}})
        mock_api.post(url, exception=asyncio.TimeoutError())
        mock_api.post(url, status=502, body="")
        mock_api.post(url, status=500, body=server_error)
        for _ in range(3):
            with self.assertRaises(ExtendedOutcomeUnknownError):
                await client.place_order(order_request())
        # A refusal, rate limit included, is an answer: the order was not placed.
        mock_api.post(url, status=429, body="")
        mock_api.post(url, status=400, body=json.dumps(helpers.payload_objects("extended_15_create_order.txt")[2]))
        for status in (429, 400):
            with self.assertRaises(ExtendedApiError) as error:
                await client.place_order(order_request())
            self.assertNotIsInstance(error.exception, ExtendedOutcomeUnknownError)
            self.assertEqual(status, error.exception.http_status)

    @aioresponses()
    async def test_an_order_without_room_in_the_rate_budget_by_its_maximum_age_is_not_sent(self, mock_api):
        client = self.client(throttler=AsyncThrottler([RateLimit(CONSTANTS.ORDER_PATH, limit=1, time_interval=60)]))
        url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH)
        mock_api.post(url, body=json.dumps(helpers.payload_objects("extended_15_create_order.txt")[1]), repeat=True)
        # Past its age, but the budget has room at once: it goes (the age bounds only the wait for the budget).
        self.assertEqual("2051479786538188800", await client.place_order(
            order_request(), max_age=MaxAge(since=time.monotonic() - 10, seconds=5)))
        [request] = next(iter(mock_api.requests.values()))
        self.assertEqual("application/json", request.kwargs["headers"]["Content-Type"])
        self.assertEqual(helpers.API_KEY, request.kwargs["headers"][CONSTANTS.API_KEY_HEADER])
        self.assertEqual("HBBBCUD1", json.loads(request.kwargs["data"])["id"])
        started = time.monotonic()
        with self.assertRaises(ExtendedNotSentError) as error:
            await client.place_order(order_request(external_id="HBBBCUD2"),
                                     max_age=MaxAge(since=started, seconds=0.3))
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertRegex(str(error.exception), r"^Not sent \(rate limit\): the order was still waiting for room in the "
                                               r"rate budget 0\.3 s after it was placed, its maximum age "
                                               r"\(max_order_age_seconds 0\.3\)\.$")
        self.assertFalse(error.exception.outcome_unknown)
        self.assertEqual(1, len(next(iter(mock_api.requests.values()))))

    @aioresponses()
    async def test_bad_keys_are_refused_before_anything_is_signed_or_sent(self, mock_api):
        client = self.client(public_key=hex(int(helpers.STARK_PUBLIC_KEY, 16) + 1))
        with self.assertRaises(ExtendedKeyError):
            await client.place_order(order_request())
        self.assertEqual(0, len(mock_api.requests))

    @aioresponses()
    async def test_error_answers(self, mock_api):
        client = self.client()
        url = web_utils.private_rest_url(CONSTANTS.BALANCE_PATH)
        mock_api.get(url, status=401, body="")
        with self.assertRaises(ExtendedKeyError) as error:
            await client.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH)
        self.assertEqual(UNAUTHORIZED_MESSAGE, str(error.exception))

        mock_api.get(url, status=404, body=json.dumps({"status": "ERROR", "error": {"code": 404, "message": "nf"}}))
        with self.assertRaises(ExtendedNotFoundError):
            await client.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH)

        # An error envelope is an error even with HTTP 200, and secrets echoed by a server are scrubbed.
        echoed = f"bad key {helpers.API_KEY} and {helpers.STARK_PRIVATE_KEY}"
        mock_api.get(url, body=json.dumps({"status": "ERROR", "error": {"code": 1006, "message": echoed}}))
        with self.assertRaises(ExtendedApiError) as error:
            await client.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH)
        self.assertEqual((1006, 200), (error.exception.code, error.exception.http_status))
        self.assertNotIn(helpers.API_KEY, str(error.exception))
        self.assertNotIn(helpers.STARK_PRIVATE_KEY[2:], str(error.exception))

        # Word codes are read as they are, and NOT_FOUND means "no such record" whatever the HTTP status.
        lookup = web_utils.private_rest_url(CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id="HB1"))
        word = {"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Order not found"}}
        for status in (404, 200):
            mock_api.get(lookup, status=status, body=json.dumps(word))
            with self.assertRaises(ExtendedNotFoundError) as error:
                await client.orders_by_external_id("HB1")
            self.assertEqual(("NOT_FOUND", status), (error.exception.code, error.exception.http_status))
            self.assertEqual(f"Extended refused GET /user/orders/external/HB1 (HTTP {status}, error NOT_FOUND): "
                             f"Order not found", str(error.exception))
        mock_api.get(url, status=400, body=json.dumps({"status": "ERROR", "error": {"code": "1140", "message": "m"}}))
        with self.assertRaises(ExtendedApiError) as error:
            await client.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH)
        self.assertEqual(1140, error.exception.code)

        mock_api.get(url, exception=asyncio.TimeoutError())
        with self.assertRaises(ExtendedApiError) as error:
            await client.request(RESTMethod.GET, CONSTANTS.BALANCE_PATH)
        self.assertIn("No answer from Extended", str(error.exception))

    @aioresponses()
    async def test_cancels_and_leverage(self, mock_api):
        client = self.client()
        order_url = web_utils.private_rest_url(CONSTANTS.ORDER_PATH)
        mock_api.delete(re.compile("^" + re.escape(order_url) + r"\?externalId=HB1$"), body='{"status": "OK"}')
        mass_url = web_utils.private_rest_url(CONSTANTS.MASS_CANCEL_PATH)
        mock_api.post(mass_url, body='{"status": "OK", "data": {}}', repeat=True)
        leverage_url = web_utils.private_rest_url(CONSTANTS.LEVERAGE_PATH)
        mock_api.patch(leverage_url, body='{"status": "OK", "data": {}}')

        await client.cancel_order("HB1")
        await client.mass_cancel(external_ids=["HB1", "HB2"])
        await client.mass_cancel(markets=["BTC-USD"], cancel_all=True)
        await client.update_leverage("BTC-USD", Decimal(20))

        bodies = [json.loads(call.kwargs["data"]) for (method, url), calls in mock_api.requests.items()
                  if str(url) == mass_url for call in calls]
        self.assertEqual([{"externalOrderIds": ["HB1", "HB2"]}, {"markets": ["BTC-USD"], "cancelAll": True}], bodies)
        [patch_call] = [calls[0] for (method, url), calls in mock_api.requests.items() if method == "PATCH"]
        self.assertEqual({"market": "BTC-USD", "leverage": "20"}, json.loads(patch_call.kwargs["data"]))

    @aioresponses()
    async def test_dead_man_switch_is_set_by_query_and_either_answer_is_success(self, mock_api):
        client = self.client()
        url = re.compile("^" + re.escape(web_utils.private_rest_url(CONSTANTS.DEAD_MAN_SWITCH_PATH)) + r"\?")
        # ccxt reads an empty body; the docs list {"status": "OK"}.
        mock_api.post(url, body="")
        mock_api.post(url, body='{"status": "OK"}')
        mock_api.post(url, status=400, body=json.dumps({"status": "ERROR", "error": {"code": 1133, "message": "m"}}))
        mock_api.post(url, exception=asyncio.TimeoutError())

        await client.set_dead_man_switch(60)
        await client.set_dead_man_switch(0)
        with self.assertRaises(ExtendedApiError) as error:
            await client.set_dead_man_switch(60)
        self.assertEqual((1133, 400), (error.exception.code, error.exception.http_status))
        with self.assertRaises(ExtendedApiError) as error:
            await client.set_dead_man_switch(30, timeout=2.5)
        self.assertIn("No answer from Extended within 2.5 s", str(error.exception))

        calls = [call for calls in mock_api.requests.values() for call in calls]
        # aioresponses groups the calls by URL, query included.
        self.assertEqual([0, 30, 60, 60], sorted(call.kwargs["params"]["countdownTime"] for call in calls))
        self.assertEqual([None] * 4, [call.kwargs.get("data") for call in calls])
        self.assertEqual(helpers.API_KEY, calls[0].kwargs["headers"][CONSTANTS.API_KEY_HEADER])

    def test_dead_man_switch_requests_count_in_the_reserved_request_pool(self):
        [limit] = [limit for limit in CONSTANTS.RATE_LIMITS if limit.limit_id == CONSTANTS.DEAD_MAN_SWITCH_PATH]
        self.assertEqual([(CONSTANTS.RESERVED_LIMIT, 1)],
                         [(linked.limit_id, linked.weight) for linked in limit.linked_limits])

    async def test_scrubbed_errors_drop_the_exception_they_replace(self):
        # Hummingbot logs failures with their traceback: a chained original would print the key in clear.
        key_int = helpers.STARK_PRIVATE_KEY_INT
        with patch("x10.core.stark_account.sign", side_effect=ValueError(f"cannot sign with {hex(key_int)}")):
            with self.assertRaises(ExtendedApiError) as error:
                self.client().sign_order(order_request())
        self.assertNotIn(hex(key_int)[2:], str(error.exception))
        self.assertIsNone(error.exception.__cause__)
        self.assertTrue(error.exception.__suppress_context__)

    @aioresponses()
    async def test_account_trades_follow_the_cursor_until_old_enough(self, mock_api):
        client = self.client()
        url = re.compile("^" + re.escape(web_utils.private_rest_url(CONSTANTS.ACCOUNT_TRADES_PATH)) + r"\?")
        trade = helpers.payload_objects("extended_17_account_rest.txt")[3]["data"][0]
        full_page = [dict(trade, id=i, createdTime=5_000 + i) for i in range(CONSTANTS.TRADES_PAGE_SIZE, 0, -1)]
        older = [dict(trade, id=0, createdTime=1_000)]
        first_page = {"status": "OK", "data": full_page, "pagination": {"cursor": 1, "count": 100}}
        mock_api.get(url, body=json.dumps(first_page))
        mock_api.get(url, body=json.dumps({"status": "OK", "data": older, "pagination": {"cursor": 0, "count": 1}}))
        mock_api.get(url, body=json.dumps({"status": "OK", "data": older, "pagination": {"cursor": 0, "count": 1}}))

        trades, complete = await client.account_trades(since_ms=3_000, market="BTC-USD")

        self.assertEqual((CONSTANTS.TRADES_PAGE_SIZE + 1, True), (len(trades), complete))
        calls = [call for calls in mock_api.requests.values() for call in calls]
        self.assertEqual(2, len(calls))
        self.assertEqual({"market": "BTC-USD", "limit": CONSTANTS.TRADES_PAGE_SIZE, "cursor": 1},
                         calls[1].kwargs["params"])

    @aioresponses()
    async def test_account_trades_of_every_market_stop_at_the_page_bound(self, mock_api):
        client = self.client()
        url = re.compile("^" + re.escape(web_utils.private_rest_url(CONSTANTS.ACCOUNT_TRADES_PATH)) + r"\?")
        trade = helpers.payload_objects("extended_17_account_rest.txt")[3]["data"][0]
        page = [dict(trade, id=i, createdTime=5_000 + i) for i in range(CONSTANTS.TRADES_PAGE_SIZE, 0, -1)]
        mock_api.get(url, body=json.dumps({"status": "OK", "data": page, "pagination": {"cursor": 1, "count": 100}}),
                     repeat=True)

        trades, complete = await client.account_trades(since_ms=3_000)

        self.assertFalse(complete)
        calls = [call for calls in mock_api.requests.values() for call in calls]
        self.assertEqual(CONSTANTS.TRADES_MAX_PAGES, len(calls))
        self.assertEqual(CONSTANTS.TRADES_MAX_PAGES * CONSTANTS.TRADES_PAGE_SIZE, len(trades))
        self.assertEqual({"limit": CONSTANTS.TRADES_PAGE_SIZE}, calls[0].kwargs["params"])

    def test_scrub_covers_every_form_of_the_private_key(self):
        client = self.client()
        key_int = helpers.STARK_PRIVATE_KEY_INT
        text = f"{helpers.STARK_PRIVATE_KEY} {hex(key_int)[2:].upper()} {key_int} {helpers.API_KEY}"
        scrubbed = client.scrub(text.lower())
        self.assertNotIn(hex(key_int)[2:], scrubbed)
        self.assertNotIn(str(key_int), scrubbed)
        self.assertNotIn(helpers.API_KEY, scrubbed)
        self.assertEqual(4, scrubbed.count("***"))

    async def test_auth_puts_the_key_in_the_header_only(self):
        auth = ExtendedPerpetualAuth(helpers.API_KEY)
        self.assertNotIn(helpers.API_KEY, repr(auth))
        self.assertEqual({"User-Agent": CONSTANTS.USER_AGENT, CONSTANTS.API_KEY_HEADER: helpers.API_KEY},
                         auth.stream_headers())
