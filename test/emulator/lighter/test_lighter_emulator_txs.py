"""Transactions signed by the real lighter-sdk signer, accepted or rejected with the venue's codes."""
import json
import time
from decimal import Decimal
from unittest.mock import patch

from lighter.models import RespSendTx, RespSendTxBatch

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase


class SendTxTests(EmulatorTestCase):

    async def test_signed_limit_order_is_accepted_and_rests(self):
        tx_type, tx_info = self.sign_order(client_index=77, base=1000, price=249000)
        status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual(200, status)
        response = RespSendTx.from_dict(body)
        self.assertEqual(200, response.code)
        self.assertEqual(80, len(response.tx_hash))
        self.assertEqual("{\"ratelimit\": \"didn't use volume quota\"}", response.message)
        self.assertGreater(response.predicted_execution_time_ms, int(time.time() * 1000) - 1000)
        orders = list(self.ex.state.accounts[self.account].active_orders.values())
        self.assertEqual(1, len(orders))
        self.assertEqual(77, orders[0].client_order_index)
        self.assertEqual("open", orders[0].status)
        self.assertGreaterEqual(orders[0].order_index, 1 << 48)
        self.assertEqual([(Decimal("2490.00"), Decimal("0.1000"))], self.ex.book_levels(0)["bids"])

    async def test_multipart_form_is_accepted_like_urlencoded(self):
        tx_type, tx_info = self.sign_order(client_index=5)
        status, body = await self.send_tx(tx_type, tx_info, multipart=True)
        self.assertEqual((200, 200), (status, body["code"]))
        sent = [r for r in self.ex.state.requests if r.path == "/api/v1/sendTx"][-1]
        self.assertEqual(str(tx_type), sent.form["tx_type"])
        self.assertEqual(tx_info, sent.form["tx_info"])

    async def test_same_nonce_twice_is_rejected_with_21104(self):
        tx_type, tx_info = self.sign_order(nonce=0)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual((400, {"code": 21104, "message": "invalid nonce"}), (status, body))

    async def test_nonce_gap_is_rejected_and_does_not_consume_the_nonce(self):
        tx_type, tx_info = self.sign_order(nonce=1)
        status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual((400, 21104), (status, body["code"]))
        status, body = await self.get("/api/v1/nextNonce", {"account_index": self.account,
                                                            "api_key_index": self.key})
        self.assertEqual({"code": 200, "nonce": 0}, body)
        self.assertEqual(200, (await self.send_tx(*self.sign_order(nonce=0)))[0])
        self.assertEqual(1, (await self.get("/api/v1/nextNonce", {"account_index": self.account,
                                                                  "api_key_index": self.key}))[1]["nonce"])

    async def test_skip_nonce_attribute_accepts_a_larger_nonce_below_2_pow_47(self):
        tx_type, tx_info = self.sign_order(nonce=1_000_000, skip_nonce=1)
        self.assertEqual({"4": 1}, json.loads(tx_info)["L2TxAttributes"])
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        status, body = await self.send_tx(*self.sign_order(nonce=999_999, skip_nonce=1, client_index=2))
        self.assertEqual((400, 21104), (status, body["code"]))
        status, body = await self.send_tx(*self.sign_order(nonce=1 << 47, skip_nonce=1, client_index=3))
        self.assertEqual((400, 21104), (status, body["code"]))
        self.assertEqual(1_000_001, self.ex.state.nonces()[(self.account, self.key)])

    async def test_unknown_api_key_is_rejected_with_21109(self):
        tx_type, tx_info = self.sign_order()
        info = json.loads(tx_info)
        info["ApiKeyIndex"] = 9
        status, body = await self.send_tx(tx_type, json.dumps(info))
        self.assertEqual((400, {"code": 21109, "message": "api key not found"}), (status, body))

    async def test_expired_expired_at_is_rejected_with_21711(self):
        tx_type, tx_info = self.sign_order()
        expired_at = json.loads(tx_info)["ExpiredAt"]
        with patch("emulator.lighter.txs.now_ms", return_value=expired_at + 1):
            status, body = await self.send_tx(tx_type, tx_info)
        self.assertEqual((400, 21711), (status, body["code"]))
        self.assertEqual(0, self.ex.state.nonces()[(self.account, self.key)])

    async def test_malformed_signature_and_tx_info_are_rejected(self):
        tx_type, tx_info = self.sign_order()
        info = json.loads(tx_info)
        info["Sig"] = "c2hvcnQ="
        self.assertEqual(21501, (await self.send_tx(tx_type, json.dumps(info)))[1]["code"])
        self.assertEqual(21501, (await self.send_tx(tx_type, "{not json"))[1]["code"])
        self.assertEqual(21505, (await self.send_tx(99, tx_info))[1]["code"])
        async with self.session.post(self.ex.rest_url + "/api/v1/sendTx", data={"tx_info": tx_info}) as response:
            self.assertEqual(400, response.status)
            self.assertEqual(20001, (await response.json())["code"])

    async def test_order_field_validation_uses_the_venue_codes(self):
        cases = [({"BaseAmount": 0}, 21701), ({"Price": 0}, 21702), ({"IsAsk": 2}, 21703),
                 ({"TimeInForce": 7}, 21705), ({"Type": 9}, 21704), ({"Type": 2}, 21710),
                 ({"MarketIndex": 77}, 21602), ({"BaseAmount": 10}, 21706), ({"OrderExpiry": 5}, 21711),
                 ({"TriggerPrice": 5}, 21729)]
        tx_type, tx_info = self.sign_order()
        for change, code in cases:
            with self.subTest(change=change):
                info = dict(json.loads(tx_info), **change)
                status, body = await self.send_tx(tx_type, json.dumps(info))
                self.assertEqual((400, code), (status, body["code"]))
        self.assertEqual(0, self.ex.state.nonces()[(self.account, self.key)])

    async def test_duplicate_client_order_index_is_rejected_with_21728(self):
        self.assertEqual(200, (await self.send_tx(*self.sign_order(client_index=11)))[0])
        status, body = await self.send_tx(*self.sign_order(client_index=11, price=248000, nonce=1))
        self.assertEqual((400, {"code": 21728, "message": "client order index already exists"}), (status, body))

    async def test_order_beyond_initial_margin_is_rejected_with_21739(self):
        # 10,000 USDC at the 5% default initial margin fraction allows 200,000 USDC of ETH (80 ETH at 2490)
        status, body = await self.send_tx(*self.sign_order(base=810_000, price=249000))
        self.assertEqual((400, {"code": 21739, "message": "not enough margin to create the order"}), (status, body))
        self.assertEqual(200, (await self.send_tx(*self.sign_order(base=790_000, price=249000, nonce=0)))[0])

    async def test_cancel_by_order_index_and_by_client_order_index(self):
        await self.send_tx(*self.sign_order(client_index=21, price=249000))
        await self.send_tx(*self.sign_order(client_index=22, price=248000))
        orders = {o.client_order_index: o for o in self.ex.state.accounts[self.account].active_orders.values()}
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel(orders[21].order_index)))[0])
        self.assertEqual(200, (await self.send_tx(*self.sign_cancel(22)))[0])
        self.assertEqual(("canceled", "canceled"), (orders[21].status, orders[22].status))
        self.assertEqual([], self.ex.book_levels(0)["bids"])
        status, body = await self.send_tx(*self.sign_cancel(22))
        self.assertEqual((400, 21715), (status, body["code"]))

    async def test_modify_cancel_all_and_update_leverage(self):
        await self.send_tx(*self.sign_order(client_index=31, price=249000))
        order = next(iter(self.ex.state.accounts[self.account].active_orders.values()))
        tx_type, tx_info, _, error = self.signer.sign_modify_order(0, order.order_index, 2000, 247000,
                                                                   nonce=self.next_nonce(), api_key_index=self.key)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        self.assertEqual([(Decimal("2470.00"), Decimal("0.2000"))], self.ex.book_levels(0)["bids"])
        tx_type, tx_info, _, error = self.signer.sign_update_leverage(0, 1000, 0, nonce=self.next_nonce(),
                                                                      api_key_index=self.key)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        self.assertEqual(1000, self.ex.state.accounts[self.account].positions[0].initial_margin_fraction)
        await self.send_tx(*self.sign_order(client_index=32, price=65000_0, market=1, base=100))
        tx_type, tx_info, _, error = self.signer.sign_cancel_all_orders(0, 0, nonce=self.next_nonce(),
                                                                        api_key_index=self.key)
        self.assertEqual(200, (await self.send_tx(tx_type, tx_info))[0])
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)
        self.assertEqual("canceled", order.status)

    async def test_batch_accepts_increasing_nonces_and_returns_hash_list(self):
        txs = [self.sign_order(client_index=40 + i, price=249000 - i * 100) for i in range(3)]
        status, body = await self.send_batch(txs)
        self.assertEqual(200, status)
        response = RespSendTxBatch.from_dict(body)
        self.assertEqual(3, len(response.tx_hash))
        self.assertEqual(3, len(self.ex.state.accounts[self.account].active_orders))

    async def test_batch_with_non_increasing_nonces_is_rejected_with_21105(self):
        first = self.sign_order(client_index=50, nonce=1)
        second = self.sign_order(client_index=51, nonce=0)
        status, body = await self.send_batch([first, second])
        self.assertEqual((400, 21105), (status, body["code"]))
        self.assertEqual({}, self.ex.state.accounts[self.account].active_orders)

    async def test_batch_over_15_is_rejected(self):
        txs = [self.sign_order(client_index=60 + i, price=240000 + i) for i in range(16)]
        status, body = await self.send_batch(txs)
        self.assertEqual((400, 20001), (status, body["code"]))
        self.assertEqual(0, self.ex.state.nonces()[(self.account, self.key)])
