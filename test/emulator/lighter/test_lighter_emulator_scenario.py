"""End to end over real sockets: the done-when scenario, the standalone server and the synthetic flow."""
import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import aiohttp
from lighter.signer_client import create_api_key

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase, of_type

REPO_ROOT = Path(__file__).resolve().parents[3]


class DoneWhenScenarioTests(EmulatorTestCase):

    async def test_signed_order_rests_fills_against_a_taker_and_reports_the_fee(self):
        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        token = self.auth_token()
        ws = await self.connect()
        await self.subscribe(ws, f"account_all_orders/{self.account}", auth=token)
        await self.subscribe(ws, f"account_all_trades/{self.account}", auth=token)
        tx_type, tx_info, _, error = self.signer.sign_create_order(
            0, 4242, 2000, 250000, False, self.signer.ORDER_TYPE_LIMIT,
            self.signer.ORDER_TIME_IN_FORCE_GOOD_TILL_TIME, nonce=0, api_key_index=self.key)
        self.assertIsNone(error)
        status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual((200, 200), (status, body["code"]))
        self.assertEqual([(Decimal("2500.00"), Decimal("0.2000"))], self.ex.book_levels(0)["bids"])
        opened = await self.receive_until(ws, of_type("update/account_all_orders"))
        order = opened["orders"]["0"][0]
        self.assertEqual(("open", "4242", False), (order["status"], order["client_order_id"], order["is_ask"]))

        self.ex.submit_taker(0, is_ask=True, size=Decimal("0.2"))
        filled = await self.receive_until(ws, of_type("update/account_all_orders"))
        self.assertEqual("filled", filled["orders"]["0"][0]["status"])
        ws_trade = (await self.receive_until(ws, of_type("update/account_all_trades")))["trades"]["0"][0]
        status, body = await self.get("/api/v1/trades", {"account_index": self.account, "sort_by": "trade_id",
                                                         "limit": 10}, headers={"authorization": token})
        rest_trade = body["trades"][0]
        for trade in (ws_trade, rest_trade):
            self.assertEqual((4242, order["order_index"], "500.000000", 200, False),
                             (trade["bid_client_id"], trade["bid_id"], trade["usd_amount"], trade["maker_fee"],
                              trade["is_maker_ask"]))
        # maker fee 0.02% of 500 USDC
        self.assertEqual(Decimal("9999.9"), self.ex.balance(self.account))
        fill = self.ex.state.accounts[self.account].fills[0]
        self.assertEqual(100_000, fill.maker_fee_paid)

        status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual((400, {"code": 21104, "message": "invalid nonce"}), (status, body))

    async def test_sdk_high_level_create_and_cancel_with_explicit_nonce(self):
        created, response, error = await self.signer.create_order(
            0, 55, 1000, 249000, False, self.signer.ORDER_TYPE_LIMIT,
            self.signer.ORDER_TIME_IN_FORCE_POST_ONLY, nonce=0, api_key_index=self.key)
        self.assertIsNone(error)
        self.assertEqual(200, response.code)
        order = next(iter(self.ex.state.accounts[self.account].active_orders.values()))
        self.assertEqual(("open", 2), (order.status, order.time_in_force))
        _, response, error = await self.signer.cancel_order(0, order.order_index, nonce=1, api_key_index=self.key)
        self.assertIsNone(error)
        self.assertEqual("canceled", order.status)
        _, response, error = await self.signer.cancel_order(0, order.order_index, nonce=1, api_key_index=self.key)
        self.assertIn("21104", error)


class SyntheticFlowTests(EmulatorTestCase):

    async def test_flow_quotes_moves_the_price_and_takes_our_resting_order(self):
        flow = await self.ex.start_flow(rate_per_s=400, market_ids=[0], seed=3, taker_share=0.4)
        book = self.ex.book_levels(0)
        self.assertTrue(book["asks"] and book["bids"])
        best_bid = book["bids"][0][0]
        tx_type, tx_info = self.sign_order(client_index=9, base=50, price=int(best_bid * 100) + 1)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        start_price = self.ex.state.markets[0].index_price
        for _ in range(100):
            await asyncio.sleep(0.05)
            if self.ex.state.accounts[self.account].fills and self.ex.state.markets[0].index_price != start_price:
                break
        await self.ex.stop_flow()
        self.assertTrue(self.ex.state.accounts[self.account].fills, "a synthetic taker should hit our bid")
        self.assertNotEqual(start_price, self.ex.state.markets[0].index_price)
        self.assertGreater(len(self.ex.state.fills), 1)
        actions = flow.actions
        await asyncio.sleep(0.1)
        self.assertEqual(actions, flow.actions, "stop_flow stops the synthetic participants")


class StandaloneServerTests(EmulatorTestCase):

    async def test_module_serves_rest_and_ws_until_sigterm(self):
        _, public_key, _ = create_api_key()
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emulator.lighter", "--port", "0", "--api-public-key", public_key,
            "--api-key-index", "4", cwd=str(REPO_ROOT), env=env, stdout=asyncio.subprocess.PIPE)
        try:
            lines = [(await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip() for _ in range(3)]
            account = int(lines[0].split()[1])
            # The connector's environment overrides, as they are to be set: the REST host without /api/v1.
            urls = dict(line.split("=", 1) for line in lines[1:])
            self.assertEqual(["LIGHTER_PERPETUAL_REST_URL", "LIGHTER_PERPETUAL_WS_URL"], list(urls))
            self.assertRegex(urls["LIGHTER_PERPETUAL_REST_URL"], r"^http://127\.0\.0\.1:\d+$")
            rest_url = urls["LIGHTER_PERPETUAL_REST_URL"] + "/api/v1"
            ws_url = urls["LIGHTER_PERPETUAL_WS_URL"]
            self.assertEqual(urls["LIGHTER_PERPETUAL_REST_URL"].replace("http", "ws") + "/stream", ws_url)
            async with self.session.get(rest_url + "/orderBookDetails", params={"market_id": 0}) as response:
                body = await response.json()
            self.assertEqual("ETH", body["order_book_details"][0]["symbol"])
            async with self.session.get(rest_url + "/apikeys", params={"account_index": account}) as response:
                keys = (await response.json())["api_keys"]
            self.assertEqual([4], [key["api_key_index"] for key in keys])
            ws = await self.session.ws_connect(ws_url)
            self.assertEqual("connected", json.loads((await ws.receive(timeout=5)).data)["type"])
            await ws.close()
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 10)
        self.assertEqual(0, code)
        with self.assertRaises(aiohttp.ClientConnectionError):
            async with self.session.get(rest_url + "/orderBooks"):
                pass
