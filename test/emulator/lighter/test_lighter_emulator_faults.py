"""Fault injection: latency, HTTP errors, held requests, nonce errors, REST indexing delay, request log."""
import asyncio
import time

import aiohttp

from emulator.lighter import LighterEmulator
from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase, of_type


class FaultTests(EmulatorTestCase):

    def resting(self):
        return [order.client_order_index for order in self.ex.state.accounts[self.account].active_orders.values()]

    async def test_added_latency_on_one_path(self):
        self.ex.faults.add("/api/v1/orderBooks", latency_ms=200)
        started = time.monotonic()
        self.assertEqual(200, (await self.get("/api/v1/orderBooks"))[0])
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        started = time.monotonic()
        await self.get("/api/v1/orderBookDetails")
        self.assertLess(time.monotonic() - started, 0.2)

    async def test_http_429_for_a_limited_number_of_requests(self):
        self.ex.faults.add("/api/v1/account", status=429, count=1)
        params = {"by": "index", "value": self.account}
        self.assertEqual((429, {"code": 23000, "message": "Too Many Requests!"}),
                         await self.get("/api/v1/account", params))
        self.assertEqual(200, (await self.get("/api/v1/account", params))[0])

    async def test_5xx_on_a_tx_type_does_not_consume_the_nonce(self):
        self.ex.faults.add("tx:14", status=503, count=1)
        status, body = await self.send_tx(*self.sign_order(nonce=0))
        self.assertEqual((503, 503), (status, body["code"]))
        self.assertEqual(200, (await self.send_tx(*self.sign_order(nonce=0)))[0])

    async def test_held_request_times_out_and_is_not_processed(self):
        self.ex.faults.add("/api/v1/sendTx", timeout_ms=400, count=1)
        tx_type, tx_info = self.sign_order(nonce=0)
        with self.assertRaises(asyncio.TimeoutError):
            async with self.session.post(self.ex.rest_url + "/api/v1/sendTx",
                                         data={"tx_type": str(tx_type), "tx_info": tx_info},
                                         timeout=aiohttp.ClientTimeout(total=0.1)):
                pass
        await asyncio.sleep(0.4)
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])

    async def test_rest_send_refused_with_a_code_does_not_consume_the_nonce(self):
        self.ex.faults.add("tx:14", code=21506, count=1)
        tx_type, tx_info = self.sign_order(nonce=0)
        refusal = (400, {"code": 21506, "message": "too many pending txs"})
        self.assertEqual(refusal, await self.send_tx(tx_type, tx_info))
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])

    async def test_rest_send_held_past_the_client_timeout_still_executes(self):
        self.ex.faults.add("tx:14", hold_ms=400, count=1)
        tx_type, tx_info = self.sign_order(nonce=0)
        with self.assertRaises(asyncio.TimeoutError):
            async with self.session.post(self.ex.rest_url + "/api/v1/sendTx",
                                         data={"tx_type": str(tx_type), "tx_info": tx_info},
                                         timeout=aiohttp.ClientTimeout(total=0.1)):
                pass
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        await asyncio.sleep(0.45)
        self.assertEqual([1], self.resting())
        # The same bytes again: the nonce is used.
        self.assertEqual(21104, (await self.send_tx(tx_type, tx_info))[1]["code"])

    async def test_rest_send_executed_with_its_answer_lost(self):
        self.ex.faults.add("tx:14", answer_lost=True, count=1)
        tx_type, tx_info = self.sign_order(nonce=0)
        with self.assertRaises(aiohttp.ClientError):
            await self.send_tx(tx_type, tx_info)
        self.assertEqual([1], self.resting())

    async def test_injected_nonce_error(self):
        self.ex.faults.nonce_errors(1)
        status, body = await self.send_tx(*self.sign_order(nonce=0))
        self.assertEqual((400, {"code": 21104, "message": "invalid nonce"}), (status, body))
        self.assertEqual(200, (await self.send_tx(*self.sign_order(nonce=0, client_index=2)))[0])

    async def test_rest_indexing_delay_hides_new_orders_from_rest_but_not_ws(self):
        self.ex.faults.rest_index_delay_ms = 400
        token = self.auth_token()
        ws = await self.connect()
        await self.subscribe(ws, f"account_all_orders/{self.account}", auth=token)
        await self.send_tx(*self.sign_order(client_index=5))
        frame = await self.receive_until(ws, of_type("update/account_all_orders"))
        self.assertEqual(5, frame["orders"]["0"][0]["client_order_index"])
        params = {"account_index": self.account, "market_id": 0, "auth": token}
        self.assertEqual([], (await self.get("/api/v1/accountActiveOrders", params))[1]["orders"])
        await asyncio.sleep(0.45)
        orders = (await self.get("/api/v1/accountActiveOrders", params))[1]["orders"]
        self.assertEqual([5], [order["client_order_index"] for order in orders])

    async def test_request_log_records_requests_and_redacts_tokens(self):
        token = self.auth_token()
        await self.get("/api/v1/accountActiveOrders", {"account_index": self.account, "market_id": 0},
                       headers={"Authorization": token})
        tx_type, tx_info = self.sign_order()
        await self.send_tx(tx_type, tx_info)
        ws = await self.connect()
        await self.subscribe(ws, f"account_all/{self.account}", auth=token)
        rest = [r for r in self.ex.state.requests if r.path == "/api/v1/accountActiveOrders"][0]
        self.assertEqual(("GET", str(self.account), "***"), (rest.method, rest.params["account_index"],
                                                             rest.headers["authorization"]))
        post = [r for r in self.ex.state.requests if r.path == "/api/v1/sendTx"][0]
        self.assertEqual(tx_info, post.form["tx_info"])
        frame = [r for r in self.ex.state.requests if r.transport == "ws"][0]
        self.assertEqual(("subscribe", "***"), (frame.method, frame.form["auth"]))
        self.assertNotIn(token, repr(list(self.ex.state.requests)))

    async def test_constructor_latency_applies_to_every_request(self):
        async with LighterEmulator(latency_ms=150) as ex:
            started = time.monotonic()
            async with self.session.get(ex.rest_url + "/api/v1/orderBooks") as response:
                self.assertEqual(200, response.status)
            self.assertGreaterEqual(time.monotonic() - started, 0.15)
