"""Auth, rate limit, injected REST faults, zero-balance 404 and the received-request log."""
import asyncio
import time
from decimal import Decimal

import aiohttp

from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase, signed_order


class AuthAndBalanceTests(EmulatorTestCase):
    collateral = Decimal(0)

    async def test_private_endpoints_need_a_known_key(self):
        status, body = await self.get("/user/orders", api_key="not-a-key")
        self.assertEqual((401, "ERROR"), (status, body["status"]))
        self.assertEqual(401, (await self.get("/user/orders", auth=False))[0])
        self.assertEqual(200, (await self.get("/info/markets", auth=False))[0])

    async def test_balance_is_404_at_zero_and_200_after_deposit(self):
        status, body = await self.get("/user/balance")
        self.assertEqual((404, "ERROR"), (status, body["status"]))
        self.ex.deposit(self.acct, Decimal("25.5"))
        status, body = await self.get("/user/balance")
        self.assertEqual((200, "25.500000"), (status, body["data"]["balance"]))

    async def test_request_log_records_calls_without_credentials(self):
        await self.get("/user/orders?market=BTC-USD")
        await self.request("POST", "/user/order/massCancel", json={"cancelAll": True})
        records = list(self.ex.state.requests)
        self.assertEqual([("GET", "/user/orders"), ("POST", "/user/order/massCancel")],
                         [(r.method, r.path) for r in records])
        self.assertEqual({"market": ["BTC-USD"]}, records[0].query)
        self.assertEqual({"cancelAll": True}, records[1].body)
        self.assertEqual({self.acct.account_id}, {r.account_id for r in records})
        self.assertNotIn(self.acct.api_key, repr(records))


class RateLimitTests(EmulatorTestCase):
    emulator_kwargs = {"rate_limit": 5}

    async def test_429_beyond_the_limit(self):
        statuses = [(await self.get("/info/markets", auth=False))[0] for _ in range(7)]
        self.assertEqual([200] * 5 + [429] * 2, statuses)
        status, body = await self.get("/user/orders")
        self.assertEqual((429, "ERROR"), (status, body["status"]))


class InjectedFaultTests(EmulatorTestCase):
    async def test_server_error_once_on_matching_path(self):
        self.ex.faults.fail_next(503, "/user/order", method="POST")
        self.assertEqual(200, (await self.get("/user/orders"))[0])
        status, body = await self.request("POST", "/user/order", json={})
        self.assertEqual((503, {"status": "ERROR", "error": {"code": 1006, "message": "Internal Server Error"}}),
                         (status, body))
        status, body = await self.request("POST", "/user/order", json={})
        self.assertEqual((400, 1133), (status, body["error"]["code"]))

    async def test_injected_rate_limit_and_wildcards(self):
        self.ex.faults.rate_limit_next("/info/*", count=2)
        statuses = [(await self.get(path, auth=False))[0]
                    for path in ("/info/markets", "/info/markets/BTC-USD/orderbook", "/info/markets")]
        self.assertEqual([429, 429, 200], statuses)

    async def test_delays(self):
        self.ex.faults.delay(0.3, "/info/markets", count=1)
        started = time.monotonic()
        await self.get("/info/markets", auth=False)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        started = time.monotonic()
        await self.get("/info/markets", auth=False)
        self.assertLess(time.monotonic() - started, 0.3)
        self.ex.faults.latency = 0.2
        started = time.monotonic()
        await self.get("/user/fees")
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.ex.faults.clear()
        self.assertEqual(0.0, self.ex.faults.latency)

    async def test_stream_latency(self):
        self.ex.faults.stream_latency = 0.3
        started = time.monotonic()
        async with await self.connect("/orderbooks/BTC-USD") as ws:
            await self.recv(ws)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)


class AnswerShapeAndLostRequestTests(EmulatorTestCase):
    async def test_404_bodies_carry_the_word_code_when_switched_on(self):
        status, body = await self.get("/user/orders/external/nope")
        self.assertEqual((404, 404), (status, body["error"]["code"]))
        self.ex.faults.string_error_codes = True
        status, body = await self.get("/user/orders/external/nope")
        self.assertEqual((404, {"status": "ERROR", "error": {"code": "NOT_FOUND", "message": "Order not found"}}),
                         (status, body))
        status, body = await self.request("POST", "/user/order", json={})
        self.assertEqual((400, 1133), (status, body["error"]["code"]))
        self.ex.faults.clear()
        self.assertEqual(404, (await self.get("/user/orders/external/nope"))[1]["error"]["code"])

    async def test_held_order_goes_live_after_the_client_gave_up(self):
        body = signed_order(self.ex.state, self.stark, "BTC-USD", "BUY", "0.001", self.inside_price("BUY"))
        self.ex.faults.delay(0.4, "/user/order", method="POST", count=1)
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(self.post_order(body), 0.1)
        self.assertIsNone(self.ex.state.order_by_external_id(self.acct.account_id, body["id"]))
        await asyncio.sleep(0.5)
        self.assertEqual("NEW", self.ex.state.order_by_external_id(self.acct.account_id, body["id"]).status)

    async def test_dropped_order_is_never_placed(self):
        body = signed_order(self.ex.state, self.stark, "BTC-USD", "BUY", "0.001", self.inside_price("BUY"))
        self.ex.faults.drop_next(0.2, "/user/order", method="POST")
        started = time.monotonic()
        with self.assertRaises(aiohttp.ClientError):
            await self.post_order(body)
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertIsNone(self.ex.state.order_by_external_id(self.acct.account_id, body["id"]))
        self.assertEqual(404, (await self.get(f"/user/orders/external/{body['id']}"))[0])
        self.assertEqual(200, (await self.post_order(body))[0])

    async def test_trade_stream_names_the_client_id_as_switched(self):
        expected = {"externalOrderId": "externalOrderId", "externalId": "externalId", None: None}
        for field, key in expected.items():
            self.ex.state.trade_stream_client_id_field = field
            async with await self.connect("/account", headers=self.headers()) as ws:
                for _ in range(3):
                    await self.recv(ws)
                price = self.inside_price("BUY")
                placed = await self.place("BUY", "0.001", price)
                self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.001"), Decimal(price))
                trade = (await self.recv_until(ws, lambda f: f["type"] == "TRADE"))["data"]["trades"][0]
            names = {name for name in ("externalOrderId", "externalId") if name in trade}
            self.assertEqual({key} if key else set(), names)
            if key:
                self.assertEqual(placed["externalId"], trade[key])
