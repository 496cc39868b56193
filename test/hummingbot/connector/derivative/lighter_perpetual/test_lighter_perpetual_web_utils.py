import asyncio
import email.parser
import json
import logging
import re
import time
import unittest
from typing import Dict
from unittest.mock import patch

from aioresponses import aioresponses

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_derivative import LighterPerpetualDerivative
from hummingbot.core.network_iterator import NetworkIterator, NetworkStatus
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest
from test.hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_payloads as payloads

TX_INFO = ('{"AccountIndex":1077,"ApiKeyIndex":3,"MarketIndex":0,"Index":11,"ExpiredAt":1795248326048,"Nonce":6,'
           '"Sig":"+tb1+6PSYnojy6/fYg7JoWcfznYzOlmZ/+x5vV3eo9t73jA9TAUuMIgzuQ8mEnGtXMrf7pJbYk4wOu43/ZUyw+CFYeV7N8g'
           'r2E3mJvE/hmc=","L2TxAttributes":null}')


class UrlTests(unittest.TestCase):
    # Receives the module's log records (see handle).
    level = logging.INFO

    def setUp(self):
        self.log_records = []
        self.logger = logging.getLogger(web_utils.__name__)
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self)
        web_utils._logged_overrides.clear()
        self.addCleanup(web_utils._logged_overrides.clear)
        self.addCleanup(self.logger.removeHandler, self)

    def handle(self, record):
        self.log_records.append(record)

    def test_default_urls_per_domain(self):
        with patch.dict("os.environ", {}, clear=True):
            self.assertEqual("https://mainnet.zklighter.elliot.ai/api/v1/sendTx",
                             web_utils.public_rest_url(CONSTANTS.SEND_TX_PATH))
            self.assertEqual("https://testnet.zklighter.elliot.ai/api/v1/nextNonce",
                             web_utils.private_rest_url(CONSTANTS.NEXT_NONCE_PATH, CONSTANTS.TESTNET_DOMAIN))
            self.assertEqual("wss://mainnet.zklighter.elliot.ai/stream", web_utils.wss_url())
            self.assertEqual("wss://testnet.zklighter.elliot.ai/stream", web_utils.wss_url(CONSTANTS.TESTNET_DOMAIN))
        self.assertEqual([], self.log_records)

    def test_env_overrides_are_used_on_every_domain_and_logged_once(self):
        overrides = {CONSTANTS.REST_URL_ENV_VAR: " http://127.0.0.1:18080/ ",
                     CONSTANTS.WSS_URL_ENV_VAR: "ws://127.0.0.1:18080/stream"}
        with patch.dict("os.environ", overrides):
            for domain in (CONSTANTS.DEFAULT_DOMAIN, CONSTANTS.TESTNET_DOMAIN):
                self.assertEqual("http://127.0.0.1:18080/api/v1/account",
                                 web_utils.public_rest_url(CONSTANTS.ACCOUNT_PATH, domain))
                self.assertEqual("http://127.0.0.1:18080", web_utils.rest_base_url(domain))
                self.assertEqual("ws://127.0.0.1:18080/stream", web_utils.wss_url(domain))

        messages = [record.getMessage() for record in self.log_records]
        uses = "is set: the Lighter connector uses"
        self.assertEqual([f"{CONSTANTS.REST_URL_ENV_VAR} {uses} http://127.0.0.1:18080",
                          f"{CONSTANTS.WSS_URL_ENV_VAR} {uses} ws://127.0.0.1:18080/stream"], messages)

    def test_rest_override_with_the_api_path_is_accepted(self):
        for value in ("http://127.0.0.1:18080/api/v1", "http://127.0.0.1:18080/api/v1/"):
            with self.subTest(value=value), patch.dict("os.environ", {CONSTANTS.REST_URL_ENV_VAR: value}):
                self.assertEqual("http://127.0.0.1:18080", web_utils.rest_base_url())
                self.assertEqual("http://127.0.0.1:18080/api/v1/account",
                                 web_utils.public_rest_url(CONSTANTS.ACCOUNT_PATH))
        # Only a trailing /api/v1 is the API's own path; a proxy's prefix stays.
        relay = {CONSTANTS.REST_URL_ENV_VAR: "https://relay.example/api/v1/lighter",
                 web_utils.ALLOW_REMOTE_ENV_VAR: "1"}
        with patch.dict("os.environ", relay):
            self.assertEqual("https://relay.example/api/v1/lighter/api/v1/account",
                             web_utils.public_rest_url(CONSTANTS.ACCOUNT_PATH))
        self.assertEqual([f"{CONSTANTS.REST_URL_ENV_VAR} is set: the Lighter connector uses http://127.0.0.1:18080"],
                         [record.getMessage() for record in self.log_records])

    def test_blank_override_is_ignored(self):
        with patch.dict("os.environ", {CONSTANTS.REST_URL_ENV_VAR: "  "}):
            self.assertEqual(CONSTANTS.REST_URLS[CONSTANTS.DEFAULT_DOMAIN], web_utils.rest_base_url())
        self.assertEqual([], self.log_records)


class MultipartTests(unittest.IsolatedAsyncioTestCase):
    async def pre_process(self, url: str, data: Dict) -> RESTRequest:
        request = RESTRequest(method=RESTMethod.POST, url=url, data=json.dumps(data),
                              headers={"Accept": "application/json"})
        return await web_utils.LighterFormPreProcessor().pre_process(request)

    @staticmethod
    def parse_with_email(body: bytes, content_type: str) -> Dict[str, str]:
        """An independent multipart reader (the standard library's MIME parser)."""
        message = email.parser.BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
                for part in message.get_payload()}

    async def test_send_tx_becomes_multipart_form_fields(self):
        request = await self.pre_process(web_utils.public_rest_url(CONSTANTS.SEND_TX_PATH),
                                         {"tx_type": CONSTANTS.TX_TYPE_CANCEL_ORDER, "tx_info": TX_INFO})

        content_type = request.headers["Content-Type"]
        self.assertTrue(content_type.startswith("multipart/form-data; boundary="))
        self.assertEqual("application/json", request.headers["Accept"])
        expected = {"tx_type": "15", "tx_info": TX_INFO}
        self.assertEqual(expected, payloads.decode_form(request.data, content_type))
        self.assertEqual(expected, self.parse_with_email(request.data, content_type))

    async def test_send_tx_batch_fields_stay_json_encoded_lists(self):
        data = {"tx_types": json.dumps([14, 15]), "tx_infos": json.dumps([TX_INFO, TX_INFO])}
        request = await self.pre_process(web_utils.public_rest_url(CONSTANTS.SEND_TX_BATCH_PATH), data)

        fields = self.parse_with_email(request.data, request.headers["Content-Type"])
        self.assertEqual([14, 15], json.loads(fields["tx_types"]))
        self.assertEqual([TX_INFO, TX_INFO], json.loads(fields["tx_infos"]))
        self.assertEqual(fields, payloads.decode_form(request.data, request.headers["Content-Type"]))

    async def test_other_requests_are_untouched(self):
        request = await self.pre_process(web_utils.public_rest_url(CONSTANTS.ACCOUNT_PATH), {"by": "index"})
        self.assertEqual(json.dumps({"by": "index"}), request.data)
        self.assertNotIn("Content-Type", request.headers)

        get = RESTRequest(method=RESTMethod.GET, url=web_utils.public_rest_url(CONSTANTS.SEND_TX_PATH))
        self.assertIsNone((await web_utils.LighterFormPreProcessor().pre_process(get)).data)

    async def test_factory_applies_the_pre_processor(self):
        factory = web_utils.build_api_factory()
        self.assertTrue(any(isinstance(p, web_utils.LighterFormPreProcessor) for p in factory._rest_pre_processors))

    async def test_server_time_is_the_local_clock(self):
        before = time.time()
        server_time = await web_utils.get_current_server_time()
        self.assertLessEqual(before, server_time)
        self.assertLessEqual(server_time, time.time())


class RateLimitTests(unittest.TestCase):
    def limits(self, tier: str):
        return {limit.limit_id: limit for limit in CONSTANTS.rate_limits(tier)}

    def weights(self, tier: str) -> Dict[str, Dict[str, int]]:
        return {limit_id: {pair.limit_id: pair.weight for pair in limit.linked_limits}
                for limit_id, limit in self.limits(tier).items() if limit_id in CONSTANTS.REST_PATHS}

    def test_standard_counts_every_request_once_sixty_a_minute(self):
        limits = self.limits("Standard")
        self.assertEqual((60, 60), (limits[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                    limits[CONSTANTS.ALL_ENDPOINTS_LIMIT].time_interval))
        self.assertEqual(60, limits[CONSTANTS.TX_LIMIT].limit)
        weights = self.weights("Standard")
        self.assertEqual(set(CONSTANTS.REST_PATHS), set(weights))
        self.assertEqual({1}, {w[CONSTANTS.ALL_ENDPOINTS_LIMIT] for w in weights.values()})
        self.assertEqual({CONSTANTS.ALL_ENDPOINTS_LIMIT: 1, CONSTANTS.ORDINARY_LIMIT: 1, CONSTANTS.TX_LIMIT: 1},
                         weights[CONSTANTS.SEND_TX_PATH])
        self.assertEqual({CONSTANTS.ALL_ENDPOINTS_LIMIT: 1, CONSTANTS.ORDINARY_LIMIT: 1},
                         weights[CONSTANTS.NEXT_NONCE_PATH])

    def test_the_network_check_has_a_share_of_the_pool_no_other_request_takes(self):
        # Hummingbot checks a connector every 10 s: 6 checks a minute are kept.
        self.assertEqual(60 / NetworkIterator().check_network_interval, CONSTANTS.NETWORK_CHECKS_RESERVED_PER_MINUTE)
        for tier, ordinary, check_weight in (("Standard", 54, 1), ("Premium", 24_000 - 1_800, 300),
                                             ("Plus", 120_000 - 1_800, 300), ("Builder", 240_000 - 1_800, 300)):
            limits, weights = self.limits(tier), self.weights(tier)
            self.assertEqual((ordinary, 60), (limits[CONSTANTS.ORDINARY_LIMIT].limit,
                                              limits[CONSTANTS.ORDINARY_LIMIT].time_interval), tier)
            self.assertEqual({CONSTANTS.ALL_ENDPOINTS_LIMIT: check_weight}, weights[CONSTANTS.ORDER_BOOKS_PATH], tier)
            for path in set(CONSTANTS.REST_PATHS) - {CONSTANTS.ORDER_BOOKS_PATH}:
                self.assertEqual(weights[path][CONSTANTS.ALL_ENDPOINTS_LIMIT], weights[path][CONSTANTS.ORDINARY_LIMIT])

    def test_premium_weights_endpoints(self):
        limits = self.limits("Premium")
        self.assertEqual((24_000, 4_000), (limits[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                           limits[CONSTANTS.TX_LIMIT].limit))
        pool = {path: weights[CONSTANTS.ALL_ENDPOINTS_LIMIT] for path, weights in self.weights("Premium").items()}
        self.assertEqual(6, pool[CONSTANTS.SEND_TX_PATH])
        self.assertEqual(6, pool[CONSTANTS.SEND_TX_BATCH_PATH])
        self.assertEqual(6, pool[CONSTANTS.NEXT_NONCE_PATH])
        self.assertEqual(600, pool[CONSTANTS.ACCOUNT_TRADES_PATH])
        self.assertEqual(600, pool[CONSTANTS.RECENT_TRADES_PATH])
        self.assertEqual(100, pool[CONSTANTS.INACTIVE_ORDERS_PATH])
        self.assertEqual(300, pool[CONSTANTS.ACCOUNT_PATH])
        self.assertEqual(300, pool[CONSTANTS.ORDER_BOOK_DETAILS_PATH])
        self.assertEqual(1, self.weights("Premium")[CONSTANTS.SEND_TX_BATCH_PATH][CONSTANTS.TX_LIMIT])

    def test_plus_and_builder_pools(self):
        self.assertEqual((120_000, 8_000), (self.limits("Plus")[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                            self.limits("Plus")[CONSTANTS.TX_LIMIT].limit))
        builder = self.limits("Builder")
        self.assertEqual((240_000, 60), (builder[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit,
                                         builder[CONSTANTS.TX_LIMIT].limit))
        self.assertEqual(600, self.weights("Builder")[CONSTANTS.ACCOUNT_TRADES_PATH][CONSTANTS.ALL_ENDPOINTS_LIMIT])

    def test_throttler_is_built_for_the_tier(self):
        throttler = web_utils.create_throttler("Premium")
        self.assertEqual(24_000, throttler._id_to_limit_map[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit)
        self.assertEqual(60, web_utils.create_throttler()._id_to_limit_map[CONSTANTS.ALL_ENDPOINTS_LIMIT].limit)


class ThrottlerTests(unittest.IsolatedAsyncioTestCase):
    async def test_standard_throttler_holds_the_sixty_first_request_of_a_minute(self):
        """54 requests of any kind, then only the network check's 6 more: 60 a minute in all."""
        throttler = web_utils.create_throttler("Standard")

        async def request(path: str) -> bool:
            async with throttler.execute_task(path):
                return True

        for _ in range(54):
            self.assertTrue(await asyncio.wait_for(request(CONSTANTS.ACCOUNT_PATH), 0.5))
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(request(CONSTANTS.ACCOUNT_PATH), 0.3)
        for _ in range(6):
            self.assertTrue(await asyncio.wait_for(request(CONSTANTS.NETWORK_CHECK_PATH), 0.5))
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(request(CONSTANTS.NETWORK_CHECK_PATH), 0.3)


class NetworkCheckBudgetTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        payloads.use_default_urls(self)
        self.connector = LighterPerpetualDerivative(trading_pairs=[], trading_required=False)
        # Hummingbot's wait is 60 s; the check itself gives up at 0.8 of it.
        self.connector.check_network_timeout = 2.0
        self.throttler = self.connector._throttler
        self.tasks = []

    async def asyncTearDown(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.connector._web_assistants_factory._connections_factory.close()

    async def take(self, limit_id: str):
        async with self.throttler.execute_task(limit_id=limit_id):
            pass

    async def test_network_check_answers_while_orders_have_spent_their_whole_budget(self):
        """A Standard account: order traffic takes everything it may (54 of the 60 requests a minute) and more orders
        wait; the network check still goes out at once and answers CONNECTED within its timeout."""
        for _ in range(54):
            await self.take(CONSTANTS.SEND_TX_BATCH_PATH)
        waiting_order = asyncio.get_running_loop().create_task(self.take(CONSTANTS.SEND_TX_BATCH_PATH))
        self.tasks.append(waiting_order)
        await asyncio.sleep(0.3)
        self.assertFalse(waiting_order.done())

        with aioresponses() as mock_api:
            mock_api.get(re.compile(re.escape(web_utils.public_rest_url(CONSTANTS.ORDER_BOOKS_PATH)) + r"(\?.*)?$"),
                         payload={"code": 200, "order_books": []})
            started = time.monotonic()
            status = await self.connector.check_network()
            elapsed = time.monotonic() - started

        self.assertEqual(CONSTANTS.NETWORK_CHECK_PATH, self.connector.check_network_request_path)
        self.assertEqual(NetworkStatus.CONNECTED, status)
        self.assertLess(elapsed, 0.8 * self.connector.check_network_timeout)
        self.assertFalse(waiting_order.done())
        # Requests of every kind (a read here) wait for the ordinary budget, not only orders.
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(self.take(CONSTANTS.ACCOUNT_PATH), 0.3)
