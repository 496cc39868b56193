"""Streams: order-book sequencing and gaps, depth=1, account updates with fees, auth, pings, faults, flow."""
import asyncio
from decimal import Decimal

import aiohttp
from x10.models.order import TimeInForce

from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase


def apply_delta(book: dict, levels: list, use_change: bool = False):
    """Absolute sizes ("c") as ccxt applies them, or signed changes ("q") as the x10 SDK's OrderBook does."""
    for level in levels:
        price = Decimal(level["p"])
        size = book.get(price, Decimal(0)) + Decimal(level["q"]) if use_change else Decimal(level["c"])
        if size == 0:
            book.pop(price, None)
        else:
            book[price] = size


class OrderbookStreamTests(EmulatorTestCase):
    async def churn(self):
        """Book changes of every kind: new level, deeper level, cancel, fills on both sides."""
        first = await self.place("BUY", "0.001", self.inside_price("BUY"))
        await self.place("SELL", "0.002", self.inside_price("SELL"))
        await self.place("BUY", "0.003", "76000")
        await self.request("DELETE", f"/user/order/{first['id']}")
        self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.004"))
        self.ex.synthetic_taker("BTC-USD", "BUY", Decimal("0.001"))

    async def test_snapshot_then_contiguous_deltas_rebuild_the_book(self):
        async with await self.connect("/orderbooks/BTC-USD") as ws:
            snapshot = await self.recv(ws)
            self.assertEqual(("SNAPSHOT", 1), (snapshot["type"], snapshot["seq"]))
            await self.churn()
            deltas = await self.drain(ws)
        self.assertEqual(list(range(2, len(deltas) + 2)), [d["seq"] for d in deltas])
        self.assertGreaterEqual(len(deltas), 6)
        truth = self.ex.state.book("BTC-USD")
        for use_change in (False, True):
            bids = {Decimal(x["p"]): Decimal(x["q"]) for x in snapshot["data"]["b"]}
            asks = {Decimal(x["p"]): Decimal(x["q"]) for x in snapshot["data"]["a"]}
            for delta in deltas:
                self.assertEqual("DELTA", delta["type"])
                apply_delta(bids, delta["data"]["b"], use_change)
                apply_delta(asks, delta["data"]["a"], use_change)
            self.assertEqual(truth["bid"], sorted(bids.items(), reverse=True))
            self.assertEqual(truth["ask"], sorted(asks.items()))

    async def test_injected_gap_skips_one_seq_once(self):
        async with await self.connect("/orderbooks/BTC-USD") as ws:
            await self.recv(ws)
            await self.place("BUY", "0.001", "76000")
            self.assertEqual(2, (await self.recv(ws))["seq"])
            self.ex.faults.gap_next_orderbook_delta("BTC-USD")
            await self.place("BUY", "0.001", "76001")
            self.assertEqual(4, (await self.recv(ws))["seq"])
            await self.place("BUY", "0.001", "76002")
            self.assertEqual(5, (await self.recv(ws))["seq"])

    async def test_depth_one_sends_top_of_book_snapshots(self):
        async with await self.connect("/orderbooks/BTC-USD?depth=1") as ws:
            first = await self.recv(ws)
            price = self.inside_price("BUY")
            await self.place("BUY", "0.001", price)
            update = await self.recv(ws)
        self.assertEqual(["SNAPSHOT", "SNAPSHOT"], [first["type"], update["type"]])
        self.assertEqual((1, 1, "1"), (len(update["data"]["b"]), len(update["data"]["a"]), update["data"]["d"]))
        self.assertEqual({"q": "0.001", "p": price}, update["data"]["b"][0])

    async def test_all_markets_stream_and_unknown_market(self):
        async with await self.connect("/orderbooks") as ws:
            frames = [await self.recv(ws), await self.recv(ws)]
        self.assertEqual(["BTC-USD", "ETH-USD"], [f["data"]["m"] for f in frames])
        self.assertEqual([1, 2], [f["seq"] for f in frames])
        async with await self.connect("/orderbooks/NOPE-USD") as ws:
            self.assertEqual(1001, (await self.recv(ws))["error"]["code"])

    async def test_injected_close_drops_only_the_selected_kind(self):
        async with await self.connect("/orderbooks/BTC-USD") as book_ws, \
                await self.connect("/account", headers=self.headers()) as account_ws:
            await self.recv(book_ws)
            for _ in range(3):
                await self.recv(account_ws)
            self.assertEqual(1, self.ex.faults.close_streams("orderbooks"))
            closing = await asyncio.wait_for(book_ws.receive(), 2)
            self.assertEqual(aiohttp.WSMsgType.CLOSE, closing.type)
            await self.place("BUY", "0.001", "76000")
            self.assertEqual("ORDER", (await self.recv(account_ws))["type"])


class PingTests(EmulatorTestCase):
    emulator_kwargs = {"ping_interval": 0.2}

    async def test_server_pings(self):
        async with await self.connect("/publicTrades/BTC-USD", autoping=False) as ws:
            msg = await asyncio.wait_for(ws.receive(), 2)
            self.assertEqual(aiohttp.WSMsgType.PING, msg.type)
            await ws.pong(msg.data)


class AccountStreamTests(EmulatorTestCase):
    async def test_requires_api_key(self):
        with self.assertRaises(aiohttp.WSServerHandshakeError) as raised:
            await self.connect("/account", headers={"X-Api-Key": "wrong"})
        self.assertEqual(401, raised.exception.status)
        async with await self.connect(f"/account?X-API-KEY={self.acct.api_key}") as ws:
            self.assertEqual("ORDER", (await self.recv(ws))["type"])

    async def test_order_rests_fills_and_streams_trade_with_fee(self):
        async with await self.connect("/account", headers=self.headers()) as ws:
            for _ in range(3):
                await self.recv(ws)
            price = self.inside_price("BUY")
            placed = await self.place("BUY", "0.01", price)
            new = await self.recv(ws)
            new_order = new["data"]["orders"][0]
            self.assertEqual(("NEW", int(placed["id"])), (new_order["status"], new_order["id"]))
            self.assertEqual("BALANCE", (await self.recv(ws))["type"])  # margin reserved
            self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.01"), Decimal(price))
            frames = [await self.recv(ws) for _ in range(4)]
        self.assertEqual(["ORDER", "TRADE", "POSITION", "BALANCE"], [f["type"] for f in frames])
        self.assertEqual(list(range(6, 10)), [f["seq"] for f in frames])
        order, trade = frames[0]["data"]["orders"][0], frames[1]["data"]["trades"][0]
        fee = Decimal("0.01") * Decimal(price) * Decimal("0.0002")
        self.assertEqual(("FILLED", fee), (order["status"], Decimal(order["payedFee"])))
        self.assertEqual((int(placed["id"]), False, fee), (trade["orderId"], trade["isTaker"], Decimal(trade["fee"])))
        self.assertEqual(("LONG", "0.01"), (frames[2]["data"]["positions"][0]["side"],
                                            frames[2]["data"]["positions"][0]["size"]))
        self.assertEqual(Decimal("10000") - fee, Decimal(frames[3]["data"]["balance"]["balance"]))
        _, rest = await self.get("/user/trades")
        # The stream names the client order id `externalOrderId`, REST `externalId`; the rows are otherwise the same.
        [rest_trade] = rest["data"]
        self.assertEqual(rest_trade.pop("externalId"), trade.pop("externalOrderId"))
        self.assertEqual(trade, rest_trade)

    async def test_closed_position_update(self):
        price = self.inside_price("BUY")
        await self.place("BUY", "0.001", price)
        self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.001"), Decimal(price))
        async with await self.connect("/account", headers=self.headers()) as ws:
            snapshot = [await self.recv(ws) for _ in range(3)][2]
            self.assertEqual(["OPENED"], [p["status"] for p in snapshot["data"]["positions"]])
            best_bid = str(self.ex.state.books["BTC-USD"].best("BUY"))
            await self.place("SELL", "0.001", best_bid, time_in_force=TimeInForce.IOC)
            update = await self.recv_until(ws, lambda f: f["type"] == "POSITION")
        closed = update["data"]["positions"][0]
        self.assertEqual(("CLOSED", "LONG", "0"), (closed["status"], closed["side"], closed["size"]))
        self.assertEqual([], (await self.get("/user/positions"))[1]["data"])


class MarketStreamTests(EmulatorTestCase):
    async def test_funding_settlement_is_streamed(self):
        async with await self.connect("/funding/ETH-USD") as ws:
            await self.recv(ws)
            self.ex.trigger_funding("ETH-USD", rate=Decimal("-0.00002"))
            frame = await self.recv(ws)
        self.assertEqual(("ETH-USD", "-0.00002", 2), (frame["data"]["m"], frame["data"]["f"], frame["seq"]))

    async def test_flow_moves_prices_trades_and_fills_resting_orders(self):
        start_mark = self.ex.state.markets["BTC-USD"].mark_price
        await self.place("BUY", "0.001", self.inside_price("BUY"))
        await self.place("SELL", "0.001", self.inside_price("SELL"))
        async with await self.connect("/publicTrades/BTC-USD") as ws:
            await self.ex.start_flow(markets=["BTC-USD"], interval=0.02, taker_probability=1.0)
            trades = await self.recv(ws)
            for _ in range(150):
                if self.ex.state.account_fills(self.acct.account_id):
                    break
                await asyncio.sleep(0.02)
            await self.ex.stop_flow()
        self.assertEqual("BTC-USD", trades["data"][0]["m"])
        self.assertNotEqual(start_mark, self.ex.state.markets["BTC-USD"].mark_price)
        self.assertTrue(self.ex.state.account_fills(self.acct.account_id))
        self.assertFalse(self.ex.flow.running)
