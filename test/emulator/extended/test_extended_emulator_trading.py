"""Order lifecycle through REST: matching outcomes, cancels, replacement, positions, funding, leverage."""
import asyncio
from decimal import Decimal

from x10.models.order import OrderType, SelfTradeProtectionLevel, TimeInForce

from emulator.extended.fmt import now_ms
from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase, signed_order


class MatchingOutcomeTests(EmulatorTestCase):
    emulator_kwargs = {"seed_book": False}

    async def order_of(self, placed: dict) -> dict:
        _, body = await self.get(f"/user/orders/{placed['id']}")
        return body["data"]

    async def test_post_only_crossing_is_rejected_after_acceptance(self):
        self.ex.synthetic_maker("BTC-USD", "SELL", Decimal("0.01"), Decimal("77000"))
        placed = await self.place("BUY", "0.001", "77000", post_only=True)
        order = await self.order_of(placed)
        self.assertEqual(("REJECTED", "POST_ONLY_FAILED"), (order["status"], order["statusReason"]))
        self.assertEqual([], self.ex.state.account_fills(self.acct.account_id))

    async def test_post_only_not_crossing_rests(self):
        placed = await self.place("BUY", "0.001", "76000", post_only=True)
        self.assertEqual("NEW", (await self.order_of(placed))["status"])

    async def test_price_time_priority(self):
        first = await self.place("BUY", "0.001", "76000")
        better = await self.place("BUY", "0.001", "76001")
        second = await self.place("BUY", "0.001", "76000")
        fills = self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.0025"), Decimal("76000"))
        self.assertEqual([Decimal("76001"), Decimal("76000"), Decimal("76000")], [f.price for f in fills])
        statuses = [(await self.order_of(o))["status"] for o in (better, first, second)]
        self.assertEqual(["FILLED", "FILLED", "PARTIALLY_FILLED"], statuses)
        self.assertEqual("0.0005", (await self.order_of(second))["filledQty"])

    async def test_self_trade_protection_levels(self):
        await self.place("BUY", "0.001", "76000")
        blocked = await self.place("SELL", "0.001", "76000")
        order = await self.order_of(blocked)
        self.assertEqual(("REJECTED", "SELF_TRADE_PROTECTION"), (order["status"], order["statusReason"]))
        allowed = await self.place("SELL", "0.001", "76000",
                                   self_trade_protection_level=SelfTradeProtectionLevel.DISABLED)
        self.assertEqual("FILLED", (await self.order_of(allowed))["status"])
        self.assertEqual(2, len(self.ex.state.account_fills(self.acct.account_id)))

    async def test_client_level_protection_spans_accounts_of_one_client(self):
        sibling = self.ex.create_account(collateral=Decimal("10000"), client_id=self.acct.client_id)
        body = signed_order(self.ex.state, sibling.stark_account(), "BTC-USD", "BUY", "0.001", "76000")
        self.assertEqual(200, (await self.post_order(body, api_key=sibling.api_key))[0])
        account_level = await self.place("SELL", "0.001", "76000")
        self.assertEqual("FILLED", (await self.order_of(account_level))["status"])
        body = signed_order(self.ex.state, sibling.stark_account(), "BTC-USD", "BUY", "0.001", "76000")
        await self.post_order(body, api_key=sibling.api_key)
        client_level = await self.place("SELL", "0.001", "76000",
                                        self_trade_protection_level=SelfTradeProtectionLevel.CLIENT)
        self.assertEqual("SELF_TRADE_PROTECTION", (await self.order_of(client_level))["statusReason"])

    async def test_ioc_and_market_orders_do_not_rest(self):
        self.ex.synthetic_maker("BTC-USD", "SELL", Decimal("0.001"), Decimal("77000"))
        ioc = await self.place("BUY", "0.002", "77000", time_in_force=TimeInForce.IOC)
        order = await self.order_of(ioc)
        self.assertEqual(("CANCELLED", "0.001"), (order["status"], order["filledQty"]))
        self.ex.synthetic_maker("BTC-USD", "SELL", Decimal("0.001"), Decimal("77100"))
        market = await self.place("BUY", "0.001", "77500", order_type=OrderType.MARKET)
        order = await self.order_of(market)
        self.assertEqual(("FILLED", "77100"), (order["status"], order["averagePrice"]))
        empty = await self.place("BUY", "0.001", "77500", order_type=OrderType.MARKET)
        self.assertEqual("NO_LIQUIDITY", (await self.order_of(empty))["statusReason"])
        self.assertEqual([], self.ex.state.book("BTC-USD")["bid"])

    async def test_reduce_only_maker_cancelled_when_position_is_gone(self):
        await self.open_position("BUY", "0.001", "77000")
        reduce = await self.place("SELL", "0.001", "77200", reduce_only=True)
        self.ex.synthetic_maker("BTC-USD", "BUY", Decimal("0.001"), Decimal("77100"))
        await self.place("SELL", "0.001", "77100")  # closes the position first
        self.ex.synthetic_taker("BTC-USD", "BUY", Decimal("0.001"), Decimal("77200"))
        order = await self.order_of(reduce)
        self.assertEqual(("CANCELLED", "REDUCE_ONLY_FAILED"), (order["status"], order["statusReason"]))
        self.assertIsNone(self.ex.state.position(self.acct.account_id, "BTC-USD"))


class CancelAndReplaceTests(EmulatorTestCase):
    async def test_cancel_by_id_and_by_external_id(self):
        first = await self.place("BUY", "0.001", "76000")
        second = await self.place("BUY", "0.001", "76001", order_external_id="mine-2")
        status, body = await self.request("DELETE", f"/user/order/{first['id']}")
        self.assertEqual((200, {"status": "OK"}), (status, body))
        status, body = await self.request("DELETE", "/user/order?externalId=mine-2")
        self.assertEqual((200, {"status": "OK"}), (status, body))
        statuses = {o.external_id: o.status for o in self.ex.state.account_orders(self.acct.account_id)}
        self.assertEqual({first["externalId"]: "CANCELLED", second["externalId"]: "CANCELLED"}, statuses)
        self.assertEqual(404, (await self.request("DELETE", "/user/order/123"))[0])

    async def test_mass_cancel_selections(self):
        ids = [(await self.place("BUY", "0.001", str(76000 + i), order_external_id=f"x{i}"))["id"] for i in range(4)]
        eth = await self.place("BUY", "0.01", "2900", market="ETH-USD")
        status, body = await self.request("POST", "/user/order/massCancel", json={"orderIds": [int(ids[0])]})
        self.assertEqual((200, {"status": "OK", "data": {}}), (status, body))
        await self.request("POST", "/user/order/massCancel", json={"externalOrderIds": ["x1"]})
        self.assertEqual(3, len(self.ex.state.account_open_orders(self.acct.account_id)))
        await self.request("POST", "/user/order/massCancel", json={"markets": ["BTC-USD"], "cancelAll": True})
        self.assertEqual([int(eth["id"])], [o.id for o in self.ex.state.account_open_orders(self.acct.account_id)])
        await self.request("POST", "/user/order/massCancel", json={"cancelAll": True})
        self.assertEqual([], self.ex.state.account_open_orders(self.acct.account_id))

    async def test_replace_with_cancel_id(self):
        await self.place("BUY", "0.001", "76000", order_external_id="quote-1")
        await self.place("BUY", "0.002", "76010", order_external_id="quote-2", previous_order_external_id="quote-1")
        old = self.ex.state.order_by_external_id(self.acct.account_id, "quote-1")
        self.assertEqual(("CANCELLED", "ORDER_REPLACED"), (old.status, old.status_reason))
        self.assertEqual(["quote-2"], [o.external_id for o in self.ex.state.account_open_orders(self.acct.account_id)])

    async def test_expiry_and_dead_man_switch(self):
        placed = await self.place("BUY", "0.001", "76000")
        order = self.ex.state.orders[int(placed["id"])]
        self.assertEqual(1, self.ex.engine.expire_due(order.expire_time))
        self.assertEqual("EXPIRED", order.status)
        await self.place("BUY", "0.001", "76000")
        status, body = await self.request("POST", "/user/deadmanswitch?countdownTime=1")
        self.assertEqual((200, None), (status, body))
        await asyncio.sleep(1.5)
        self.assertEqual([], self.ex.state.account_open_orders(self.acct.account_id))


class PositionFundingLeverageTests(EmulatorTestCase):
    collateral = Decimal("5000")
    emulator_kwargs = {"seed_book": False}

    async def test_position_pnl_and_fees(self):
        self.ex.set_fees(self.acct, maker=Decimal("0.0001"), taker=Decimal("0.0005"))
        await self.open_position("BUY", "0.02", "77000")  # taker: fee 0.77
        await self.open_position("SELL", "0.01", "78000")  # taker: fee 0.39, pnl +10
        position = self.ex.state.position(self.acct.account_id, "BTC-USD")
        self.assertEqual((Decimal("0.01"), Decimal("77000")), (position.size, position.open_price))
        self.assertEqual(Decimal("10") - Decimal("0.77") - Decimal("0.39"), position.realised_pnl)
        self.assertEqual(Decimal("5000") + Decimal("10") - Decimal("1.16"), self.acct.collateral)
        self.ex.set_prices("BTC-USD", mark=Decimal("79000"))
        _, body = await self.get("/user/positions")
        self.assertEqual(("LONG", "0.01", "20.000000"),
                         (body["data"][0]["side"], body["data"][0]["size"], body["data"][0]["unrealisedPnl"]))

    async def test_funding_payment(self):
        await self.open_position("SELL", "0.01", "77259")
        self.ex.set_prices("BTC-USD", mark=Decimal("80000"))
        before = self.acct.collateral
        payments = self.ex.trigger_funding("BTC-USD", rate=Decimal("0.0001"))
        # a short receives a positive rate: 0.01 * 80000 * 0.0001 = 0.08
        mine = [p.funding_fee for p in payments if p.account_id == self.acct.account_id]
        self.assertEqual([Decimal("-0.08")], mine)
        self.assertEqual(Decimal(0), sum(p.funding_fee for p in payments))  # the synthetic maker pays it
        self.assertEqual(before + Decimal("0.08"), self.acct.collateral)
        _, body = await self.get("/user/funding/history")
        self.assertEqual(("SHORT", "-0.080000", "0.0001"),
                         (body["data"][0]["side"], body["data"][0]["fundingFee"], body["data"][0]["fundingRate"]))
        _, rates = await self.get(f"/info/BTC-USD/funding?startTime={now_ms() - 60_000}&endTime={now_ms()}", auth=False)
        self.assertEqual("0.0001", rates["data"][0]["f"])

    async def test_leverage_update_rules(self):
        for leverage, code in (("51", 1050), ("0.5", 1049), ("10.123", 1053)):
            with self.subTest(leverage=leverage):
                status, body = await self.request("PATCH", "/user/leverage",
                                                  json={"market": "BTC-USD", "leverage": leverage})
                self.assertEqual((400, code), (status, body["error"]["code"]))
        await self.open_position("BUY", "0.5", "77259")  # ~38.6k notional needs ~3.9k margin at 10x
        status, body = await self.request("PATCH", "/user/leverage", json={"market": "BTC-USD", "leverage": "1"})
        self.assertEqual(1052, body["error"]["code"])
        status, body = await self.request("PATCH", "/user/leverage", json={"market": "BTC-USD", "leverage": "25"})
        self.assertEqual((200, {"status": "OK", "data": {}}), (status, body))
        _, positions = await self.get("/user/positions")
        self.assertEqual("25", positions["data"][0]["leverage"])
