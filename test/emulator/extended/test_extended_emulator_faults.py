"""Auth, rate limit, injected REST faults, zero-balance 404 and the received-request log."""
import time
from decimal import Decimal

from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase


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
