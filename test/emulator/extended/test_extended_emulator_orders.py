"""POST /user/order: Stark signature verification and the exchange's rejection codes."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from x10.config import TESTNET_CONFIG
from x10.core.stark_account import StarkPerpetualAccount

from emulator.extended.accounts import new_key_pair
from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase, signed_order


class OrderTestCase(EmulatorTestCase):
    def order(self, **kwargs) -> dict:
        return signed_order(self.ex.state, self.stark, "BTC-USD", "BUY", "0.001", "76000", **kwargs)

    async def assertRejected(self, body: dict, code: int):
        status, response = await self.post_order(body)
        self.assertEqual(400, status, response)
        self.assertEqual("ERROR", response["status"])
        self.assertEqual(code, response["error"]["code"])
        self.assertEqual([], self.ex.state.account_orders(self.acct.account_id))


class SignatureTests(OrderTestCase):
    async def test_sdk_signed_order_is_verified_and_rests(self):
        body = self.order()
        status, response = await self.post_order(body)
        self.assertEqual(200, status)
        self.assertEqual(body["id"], response["data"]["externalId"])
        order = self.ex.state.orders[int(response["data"]["id"])]
        self.assertEqual(("NEW", Decimal("76000"), Decimal("0.001")), (order.status, order.price, order.qty))
        self.assertIn((Decimal("76000"), Decimal("0.001")), self.ex.state.book("BTC-USD")["bid"])

    async def test_fields_changed_after_signing_are_rejected(self):
        # the signed expiration has whole-second resolution, so the expiry moves by a full second
        tampered = {"price": lambda v: "75000", "qty": lambda v: "0.002", "fee": lambda v: "0.001",
                    "nonce": lambda v: str(int(v) + 1), "side": lambda v: "SELL",
                    "expiryEpochMillis": lambda v: v + 1000}
        for field, change in tampered.items():
            with self.subTest(field=field):
                body = self.order()
                body[field] = change(body[field])
                await self.assertRejected(body, 1101)

    async def test_signature_of_another_key_is_rejected(self):
        other_private, _ = new_key_pair()
        forger = StarkPerpetualAccount(vault=self.acct.vault, private_key=other_private,
                                       public_key=self.acct.stark_public_key, api_key=self.acct.api_key)
        await self.assertRejected(signed_order(self.ex.state, forger, "BTC-USD", "BUY", "0.001", "76000"), 1101)

    async def test_unregistered_stark_key_and_foreign_vault_are_rejected(self):
        other = self.ex.create_account(collateral=Decimal("100"))
        foreign = signed_order(self.ex.state, other.stark_account(), "BTC-USD", "BUY", "0.001", "76000")
        await self.assertRejected(foreign, 1100)
        body = self.order()
        body["settlement"]["collateralPosition"] = str(other.vault)
        await self.assertRejected(body, 1102)

    async def test_other_signing_domain_is_rejected(self):
        await self.assertRejected(self.order(starknet_domain=TESTNET_CONFIG.signing.starknet_domain), 1101)

    async def test_malformed_signature_is_rejected(self):
        body = self.order()
        body["settlement"]["signature"]["r"] = hex(2 ** 256)
        await self.assertRejected(body, 1101)


class ValidationTests(OrderTestCase):
    async def order_code(self, side="BUY", qty="0.001", price="76000", market="BTC-USD", **kwargs) -> int:
        body = signed_order(self.ex.state, self.stark, market, side, qty, price, **kwargs)
        status, response = await self.post_order(body)
        self.assertEqual(400, status, response)
        return response["error"]["code"]

    async def test_size_step_and_tick(self):
        self.assertEqual(1120, await self.order_code(qty="0.00009"))
        self.assertEqual(1121, await self.order_code(qty="0.000105"))
        self.assertEqual(1124, await self.order_code(price="76000.5"))
        self.assertEqual(1121, await self.order_code(market="ETH-USD", qty="0.0105", price="2900"))
        self.assertEqual(1124, await self.order_code(market="ETH-USD", qty="0.01", price="2900.05"))

    async def test_price_band_value_fee_and_expiry(self):
        self.assertEqual(1141, await self.order_code(price="82000"))  # buy above mark + 5%
        self.assertEqual(1141, await self.order_code(side="SELL", price="72000"))  # sell below mark - 5%
        self.assertEqual(1122, await self.order_code(qty="200", price="77000"))
        self.assertEqual(1128, await self.order_code(taker_fee=Decimal("0.0001")))
        past = datetime.now(tz=timezone.utc) - timedelta(seconds=5)
        self.assertEqual(1135, await self.order_code(expire_time=past))
        self.assertEqual(1135, await self.order_code(expire_time=past + timedelta(days=91)))

    async def test_order_type_and_time_in_force_rules(self):
        body = self.order()
        body["type"] = "MARKET"
        await self.assertRejected(body, 1139)
        body = self.order()
        body["type"] = "TWAP"
        await self.assertRejected(body, 1132)
        body = self.order()
        body["timeInForce"] = "FOK"
        await self.assertRejected(body, 1133)

    async def test_market_lookup_and_status(self):
        body = self.order()
        body["market"] = "XYZ-USD"
        status, response = await self.post_order(body)
        self.assertEqual(1001, response["error"]["code"])
        self.ex.set_market_status("BTC-USD", "DISABLED")
        self.assertEqual(1002, await self.order_code())
        self.ex.set_market_status("BTC-USD", "REDUCE_ONLY")
        self.assertEqual(1014, await self.order_code())
        _, markets = await self.get("/info/markets?market=BTC-USD", auth=False)
        self.assertEqual("REDUCE_ONLY", markets["data"][0]["status"])

    async def test_duplicate_external_id(self):
        await self.place("BUY", "0.001", "76000", order_external_id="client-1")
        self.assertEqual(1134, await self.order_code(order_external_id="client-1"))

    async def test_too_many_open_orders(self):
        self.ex.state.markets["BTC-USD"].spec.max_num_orders = 2
        await self.place("BUY", "0.001", "76000")
        await self.place("BUY", "0.001", "76001")
        self.assertEqual(1126, await self.order_code(price="76002"))
        self.assertEqual(2, len(self.ex.state.account_open_orders(self.acct.account_id)))

    async def test_insufficient_balance(self):
        status, response = await self.post_order(
            signed_order(self.ex.state, self.stark, "BTC-USD", "BUY", "1.5", "77000"))
        self.assertEqual(1140, response["error"]["code"])
        self.assertIn("exceeds available for trade 10000", response["error"]["debugInfo"])

    async def test_reduce_only_rules(self):
        self.assertEqual(1137, await self.order_code(side="SELL", price="77300", reduce_only=True))
        await self.open_position("BUY", "0.01", "77259")
        self.assertEqual(1138, await self.order_code(side="BUY", price="77000", reduce_only=True))
        self.assertEqual(1136, await self.order_code(side="SELL", qty="0.02", price="77300", reduce_only=True))
        await self.place("SELL", "0.01", "77300", reduce_only=True)

    async def test_unknown_replacement_target(self):
        self.assertEqual(1142, await self.order_code(previous_order_external_id="nope"))
