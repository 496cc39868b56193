"""The /stream WebSocket: control frames, public channels, private channels with auth, and WS sendtx."""
import asyncio
import json
import time
from decimal import Decimal

from emulator.lighter import LighterEmulator
from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase, of_type


class PublicStreamTests(EmulatorTestCase):

    async def test_connected_ping_pong_and_invalid_frames(self):
        ws = await self.connect()
        await ws.send_json({"type": "ping"})
        self.assertEqual({"type": "pong"}, await ws.receive_json(timeout=2))
        reply = await self.subscribe(ws, "order_book/77")
        self.assertEqual({"error": {"code": 30005, "message": "Invalid Channel:  (marketId)"}}, reply)
        reply = await self.subscribe(ws, "candles_of_doom/0")
        self.assertEqual(30005, reply["error"]["code"])
        await ws.close()

    async def test_order_book_snapshot_then_chained_updates(self):
        self.ex.place_order(self.ex.create_account(), 0, True, Decimal("1"), Decimal("2510"))
        ws = await self.connect()
        snapshot = await self.subscribe(ws, "order_book/0")
        self.assertEqual(("subscribed/order_book", "order_book:0"), (snapshot["type"], snapshot["channel"]))
        self.assertEqual([{"price": "2510.00", "size": "1.0000"}], snapshot["order_book"]["asks"])
        self.assertEqual(0, snapshot["order_book"]["begin_nonce"])
        previous = snapshot["order_book"]["nonce"]
        await self.send_tx(*self.sign_order(client_index=1, price=249000))
        await self.send_tx(*self.sign_order(client_index=2, price=249000))
        for _ in range(2):
            update = await self.receive_until(ws, of_type("update/order_book"))
            body = update["order_book"]
            self.assertEqual(previous, body["begin_nonce"])
            self.assertGreater(body["nonce"], body["begin_nonce"])
            self.assertEqual(body["offset"], update["offset"])
            self.assertGreater(update["last_updated_at"], 10 ** 15)
            self.assertLess(update["timestamp"], 10 ** 14)
            previous = body["nonce"]
        self.assertEqual([{"price": "2490.00", "size": "0.2000"}], body["bids"])
        self.ex.submit_taker(0, True, Decimal("0.2"))
        update = await self.receive_until(ws, of_type("update/order_book"))
        self.assertEqual([{"price": "2490.00", "size": "0.0000"}], update["order_book"]["bids"])

    async def test_skipped_book_update_leaves_a_begin_nonce_gap(self):
        ws = await self.connect()
        snapshot = await self.subscribe(ws, "order_book/0")
        self.ex.faults.skip_book_update(0)
        await self.send_tx(*self.sign_order(client_index=1, price=249000))
        await self.send_tx(*self.sign_order(client_index=2, price=248000))
        update = await self.receive_until(ws, of_type("update/order_book"))
        self.assertNotEqual(snapshot["order_book"]["nonce"], update["order_book"]["begin_nonce"])
        self.assertEqual([{"price": "2480.00", "size": "0.1000"}], update["order_book"]["bids"])
        await ws.send_json({"type": "unsubscribe", "channel": "order_book/0"})
        self.assertEqual('{"type": "unsubscribed", "channel": "order_book:0"}', await ws.receive_str(timeout=2))
        fresh = await self.subscribe(ws, "order_book/0")
        self.assertEqual(2, len(fresh["order_book"]["bids"]))

    async def test_duplicate_subscribe_is_refused_without_a_snapshot(self):
        ws = await self.connect()
        await self.subscribe(ws, "trade/0")
        reply = await self.subscribe(ws, "trade/0")
        self.assertEqual({"error": {"code": 30003, "message": "Already Subscribed to : trade:0"}}, reply)

    async def test_trade_and_market_stats_channels(self):
        ws = await self.connect()
        replay = await self.subscribe(ws, "trade/0")
        self.assertEqual(("subscribed/trade", []), (replay["type"], replay["trades"]))
        stats = await self.subscribe(ws, "market_stats/0")
        self.assertEqual(("subscribed/market_stats", 0), (stats["type"], stats["market_stats"]["market_id"]))
        every = await self.subscribe(ws, "market_stats/all")
        self.assertEqual({"0", "1"}, set(every["market_stats"]))
        await self.send_tx(*self.sign_order(client_index=3, price=249000))
        self.ex.submit_taker(0, True, Decimal("0.1"))
        trade = await self.receive_until(ws, of_type("update/trade"))
        self.assertEqual(("2490.00", "0.1000", 3, False),
                         (trade["trades"][0]["price"], trade["trades"][0]["size"], trade["trades"][0]["bid_client_id"],
                          trade["trades"][0]["is_maker_ask"]))
        update = await self.receive_until(ws, of_type("update/market_stats", "market_stats:all"))
        self.assertEqual("2490.00", update["market_stats"]["0"]["last_trade_price"])
        self.ex.set_index_price(0, Decimal("2600"))
        single = await self.receive_until(ws, of_type("update/market_stats", "market_stats:0"))
        self.assertEqual(("2600.00", "2600.00"), (single["market_stats"]["mark_price"],
                                                  single["market_stats"]["index_price"]))

    async def test_trades_of_one_frame_are_listed_newest_first(self):
        ws = await self.connect()
        await self.subscribe(ws, "trade/0")
        await self.send_tx(*self.sign_order(client_index=3, price=249000))
        await self.send_tx(*self.sign_order(client_index=4, price=248900))
        # A taker sell walks down through both bids: the maker is the bid each time (is_maker_ask false).
        self.ex.submit_taker(0, True, Decimal("0.2"))
        trade = await self.receive_until(ws, of_type("update/trade"))
        self.assertEqual([("2489.00", 4, False), ("2490.00", 3, False)],
                         [(t["price"], t["bid_client_id"], t["is_maker_ask"]) for t in trade["trades"]])
        ids = [t["trade_id"] for t in trade["trades"]]
        self.assertEqual(sorted(ids, reverse=True), ids)

    async def test_server_pings_idle_clients_and_drops_silent_ones(self):
        async with LighterEmulator(ws_ping_interval_s=0.1, ws_idle_timeout_s=0.6) as ex:
            ws = await self.session.ws_connect(ex.ws_url)
            self.assertEqual("connected", (await ws.receive_json(timeout=2))["type"])
            self.assertEqual({"type": "ping"}, await ws.receive_json(timeout=2))
            await ws.send_json({"type": "pong"})
            self.assertEqual({"type": "ping"}, await ws.receive_json(timeout=2))
            # no more traffic from the client: the server pings again, then closes the idle connection
            message = await ws.receive(timeout=3)
            while message.type.name == "TEXT":
                message = await ws.receive(timeout=3)
            self.assertIn(message.type.name, ("CLOSE", "CLOSED", "CLOSING"))

    async def test_close_websockets_fault(self):
        ws = await self.connect()
        self.ex.faults.close_websockets()
        message = await ws.receive(timeout=2)
        self.assertIn(message.type.name, ("CLOSE", "CLOSED", "CLOSING"))


class PrivateStreamTests(EmulatorTestCase):

    async def test_private_channels_require_a_valid_token_for_that_account(self):
        ws = await self.connect()
        reply = await self.subscribe(ws, f"account_all_orders/{self.account}")
        self.assertEqual({"error": {"code": 20001, "message": "invalid param : auth field is required: "
                                                              f"account_all_orders:{self.account}"}}, reply)
        expired, _ = self.signer.create_auth_token_with_expiry(10, timestamp=int(time.time()) - 100,
                                                               api_key_index=self.key)
        reply = await self.subscribe(ws, f"account_all_orders/{self.account}", auth=expired)
        self.assertEqual({"error": {"code": 20013, "message": "invalid auth: expired token: "
                                                              f"account_all_orders:{self.account}"}}, reply)
        other = self.ex.create_account()
        reply = await self.subscribe(ws, f"account_all/{other}", auth=self.auth_token())
        self.assertEqual(20013, reply["error"]["code"])
        reply = await self.subscribe(ws, f"user_stats/{self.account}", auth=self.auth_token())
        self.assertEqual(("subscribed/user_stats", "10000.000000"), (reply["type"], reply["stats"]["collateral"]))

    async def test_order_lifecycle_fill_and_fee_on_private_channels(self):
        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        token = self.auth_token()
        ws = await self.connect()
        snapshots = {}
        for channel in ("account_all_orders", "account_all_trades", "account_all_positions", "account_all_assets",
                        "account_all"):
            snapshots[channel] = await self.subscribe(ws, f"{channel}/{self.account}", auth=token)
            self.assertEqual(f"subscribed/{channel}", snapshots[channel]["type"])
        self.assertEqual({}, snapshots["account_all_trades"]["trades"])
        await self.send_tx(*self.sign_order(client_index=12, price=249000))
        opened = await self.receive_until(ws, of_type("update/account_all_orders"))
        order = opened["orders"]["0"][0]
        self.assertEqual(("open", 12, "12"), (order["status"], order["client_order_index"], order["client_order_id"]))
        self.ex.submit_taker(0, True, Decimal("0.1"))
        filled = await self.receive_until(ws, of_type("update/account_all_orders"))
        self.assertEqual(("filled", "0.1000"), (filled["orders"]["0"][0]["status"],
                                                filled["orders"]["0"][0]["filled_base_amount"]))
        trades = await self.receive_until(ws, of_type("update/account_all_trades"))
        trade = trades["trades"]["0"][0]
        self.assertEqual((12, 200, 500, "249.000000"),
                         (trade["bid_client_id"], trade["maker_fee"], trade["taker_fee"], trade["usd_amount"]))
        positions = await self.receive_until(ws, of_type("update/account_all_positions"))
        self.assertEqual(("0.1000", 1), (positions["positions"]["0"]["position"], positions["positions"]["0"]["sign"]))
        assets = await self.receive_until(ws, of_type("update/account_all_assets"))
        # maker fee: 249 USDC * 0.02% = 0.0498
        self.assertEqual("9999.950200", assets["assets"]["3"]["margin_balance"])
        everything = await self.receive_until(ws, of_type("update/account_all"))
        self.assertEqual(["0"], list(everything["trades"]))

    async def test_funding_appears_in_account_all_funding_histories(self):
        self.ex.place_order(self.ex.create_account(), 0, True, Decimal("1"), Decimal("2500"))
        await self.send_tx(*self.sign_order(client_index=5, base=10000, price=250000, tif=0, order_type=1))
        ws = await self.connect()
        await self.subscribe(ws, f"account_all/{self.account}", auth=self.auth_token())
        self.ex.apply_funding([0])
        update = await self.receive_until(ws, lambda f: f.get("type") == "update/account_all"
                                          and f.get("funding_histories"))
        payment = update["funding_histories"]["0"][0]
        self.assertEqual(("long", "-0.030000", "0.0012"), (payment["position_side"], payment["change"],
                                                           payment["rate"]))


class WsSendTxTests(EmulatorTestCase):

    async def test_jsonapi_sendtx_accepts_object_tx_info(self):
        ws = await self.connect()
        tx_type, tx_info = self.sign_order(client_index=70)
        data = {"id": "req-1", "tx_type": tx_type, "tx_info": json.loads(tx_info)}
        await ws.send_json({"type": "jsonapi/sendtx", "data": data})
        reply = await self.receive_until(ws, of_type("jsonapi/sendtx"))
        self.assertEqual(("req-1", 200, 80), (reply["id"], reply["code"], len(reply["tx_hash"])))
        data = {"id": "req-2", "tx_type": tx_type, "tx_info": tx_info}
        await ws.send_json({"type": "jsonapi/sendtx", "data": data})
        reply = await self.receive_until(ws, of_type("jsonapi/sendtx"))
        self.assertEqual(("req-2", 21104, "invalid nonce"), (reply["id"], reply["code"], reply["message"]))

    async def test_jsonapi_sendtxbatch_takes_json_encoded_lists(self):
        ws = await self.connect()
        txs = [self.sign_order(client_index=80 + i, price=249000 - i) for i in range(2)]
        await ws.send_json({"type": "jsonapi/sendtxbatch", "data": {
            "id": "b-1", "tx_types": json.dumps([t for t, _ in txs]), "tx_infos": json.dumps([i for _, i in txs])}})
        reply = await self.receive_until(ws, of_type("jsonapi/sendtxbatch"))
        self.assertEqual((200, 2), (reply["code"], len(reply["tx_hash"])))
        self.assertEqual(2, len(self.ex.state.accounts[self.account].active_orders))

    async def test_tx_fault_applies_to_ws_sendtx(self):
        self.ex.faults.add(f"tx:{14}", status=429, count=1)
        ws = await self.connect()
        tx_type, tx_info = self.sign_order(client_index=71)
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": 1, "tx_type": tx_type, "tx_info": tx_info}})
        reply = await asyncio.wait_for(self.receive_until(ws, of_type("jsonapi/sendtx")), 2)
        self.assertEqual(23000, reply["code"])

    async def test_latency_delays_each_frame_in_order_without_serialising_them(self):
        ws = await self.connect()
        self.ex.latency_ms = 300
        first, second = self.sign_order(client_index=90), self.sign_order(client_index=91, price=248000)
        started = time.monotonic()
        for request_id, (tx_type, tx_info) in (("a", first), ("b", second)):
            await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": request_id, "tx_type": tx_type,
                                                                   "tx_info": tx_info}})
        replies = [await self.receive_until(ws, of_type("jsonapi/sendtx")) for _ in range(2)]
        elapsed = time.monotonic() - started
        # Consecutive nonces: handled in arrival order. Both answered after one latency, not two.
        self.assertEqual([("a", 200), ("b", 200)], [(reply["id"], reply["code"]) for reply in replies])
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 0.55)

    async def test_timeout_fault_loses_a_ws_frame_unexecuted_and_unanswered(self):
        self.ex.faults.add("tx:14", timeout_ms=1, count=1)
        ws = await self.connect()
        nonce = self.next_nonce()
        lost = self.sign_order(client_index=92, nonce=nonce)
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": "lost", "tx_type": lost[0], "tx_info": lost[1]}})
        # The same nonce again: accepted, since the lost frame was never executed.
        retry = self.sign_order(client_index=93, nonce=nonce)
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": "kept", "tx_type": retry[0],
                                                               "tx_info": retry[1]}})
        reply = await self.receive_until(ws, of_type("jsonapi/sendtx"))
        self.assertEqual(("kept", 200), (reply["id"], reply["code"]))
        self.assertEqual([93], [order.client_order_index
                                for order in self.ex.state.accounts[self.account].active_orders.values()])

    async def test_answer_lost_fault_executes_a_ws_frame_and_never_answers_it(self):
        self.ex.faults.add("tx:14", answer_lost=True, count=1)
        ws = await self.connect()
        nonce = self.next_nonce()
        tx_type, tx_info = self.sign_order(client_index=94, nonce=nonce)
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": "first", "tx_type": tx_type, "tx_info": tx_info}})
        # The same bytes again: refused for the nonce the first one used; that refusal is the only answer.
        await ws.send_json({"type": "jsonapi/sendtx", "data": {"id": "again", "tx_type": tx_type, "tx_info": tx_info}})
        reply = await self.receive_until(ws, of_type("jsonapi/sendtx"))
        self.assertEqual(("again", 21104), (reply["id"], reply["code"]))
        self.assertEqual([94], [order.client_order_index
                                for order in self.ex.state.accounts[self.account].active_orders.values()])
