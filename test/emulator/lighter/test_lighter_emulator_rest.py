"""REST responses load with lighter-sdk's own models; errors use the venue's envelope."""
import asyncio
import time
from decimal import Decimal

from lighter import SignerClient, models
from lighter.signer_client import create_api_key

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase


class RestTests(EmulatorTestCase):

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        await self.send_tx(*self.sign_order(client_index=7, base=1000, price=249000))
        self.ex.submit_taker(0, True, Decimal("0.04"))
        self.ex.apply_funding([0])
        await self.send_tx(*self.sign_order(client_index=8, base=1000, price=240000))
        await self.send_tx(*self.sign_cancel(8))

    async def test_public_market_endpoints_load_with_sdk_models(self):
        cases = [
            ("/api/v1/orderBookDetails", {"filter": "all"}, models.OrderBookDetails),
            ("/api/v1/orderBookDetails", {"market_id": 1}, models.OrderBookDetails),
            ("/api/v1/orderBooks", None, models.OrderBooks),
            ("/api/v1/orderBookOrders", {"market_id": 0, "limit": 10}, models.OrderBookOrders),
            ("/api/v1/recentTrades", {"market_id": 0, "limit": 10}, models.Trades),
            ("/api/v1/exchangeStats", None, models.ExchangeStats),
            ("/api/v1/funding-rates", None, models.FundingRates),
            ("/api/v1/fundings", {"market_id": 0, "resolution": "1h", "start_timestamp": 0,
                                  "end_timestamp": int(time.time()) + 10, "count_back": 10}, models.Fundings),
            ("/api/v1/candles", {"market_id": 0, "resolution": "1m", "start_timestamp": 0,
                                 "end_timestamp": int(time.time() * 1000) + 1000, "count_back": 10}, models.Candles),
        ]
        for path, params, model in cases:
            with self.subTest(path=path, params=params):
                status, body = await self.get(path, params)
                self.assertEqual(200, status)
                parsed = model.from_dict(body)
                self.assertEqual(200, parsed.code)
        details = models.OrderBookDetails.from_dict((await self.get("/api/v1/orderBookDetails", {"market_id": 1}))[1])
        self.assertEqual([(1, "BTC", 5, 1)], [(d.market_id, d.symbol, d.size_decimals, d.price_decimals)
                                              for d in details.order_book_details])
        eth = models.OrderBookDetails.from_dict((await self.get("/api/v1/orderBookDetails", {"market_id": 0}))[1])
        detail = eth.order_book_details[0]
        self.assertEqual(("0.0050", "10.000000", 500, 200, "0.0200", "0.0500"),
                         (detail.min_base_amount, detail.min_quote_amount, detail.default_initial_margin_fraction,
                          detail.min_initial_margin_fraction, detail.maker_fee, detail.taker_fee))
        candles = models.Candles.from_dict((await self.get("/api/v1/candles", cases[-1][1]))[1])
        self.assertEqual(2490.0, candles.c[-1].c)

    async def test_account_endpoints_load_with_sdk_models(self):
        token = self.auth_token()
        address = self.ex.state.accounts[self.account].l1_address
        status, body = await self.get("/api/v1/account", {"by": "index", "value": self.account})
        accounts = models.DetailedAccounts.from_dict(body)
        account = accounts.accounts[0]
        self.assertEqual((self.account, 1, "0.0400"), (account.index, account.positions[0].sign,
                                                       account.positions[0].position))
        self.assertEqual("USDC", account.assets[0].symbol)
        by_l1_params = {"by": "l1_address", "value": address}
        by_l1 = models.DetailedAccounts.from_dict((await self.get("/api/v1/account", by_l1_params))[1])
        self.assertEqual([self.account], [acct.index for acct in by_l1.accounts])
        subs = models.SubAccounts.from_dict((await self.get("/api/v1/accountsByL1Address",
                                                            {"l1_address": address}))[1])
        self.assertEqual([self.account], [acct.index for acct in subs.sub_accounts])
        active = models.Orders.from_dict((await self.get("/api/v1/accountActiveOrders",
                                                         {"account_index": self.account, "market_id": 0},
                                                         headers={"authorization": token}))[1])
        self.assertEqual([(7, "open", "0.0600")], [(o.client_order_index, o.status, o.remaining_base_amount)
                                                   for o in active.orders])
        inactive = models.Orders.from_dict((await self.get("/api/v1/accountInactiveOrders",
                                                           {"account_index": self.account, "limit": 10,
                                                            "auth": token}))[1])
        self.assertEqual([(8, "canceled")], [(o.client_order_index, o.status) for o in inactive.orders])
        trades = models.Trades.from_dict((await self.get("/api/v1/trades",
                                                         {"account_index": self.account, "sort_by": "timestamp",
                                                          "limit": 10}, headers={"authorization": token}))[1])
        trade = trades.trades[0]
        self.assertEqual((7, False, 200, "99.600000"),
                         (trade.bid_client_id, trade.is_maker_ask, trade.maker_fee, trade.usd_amount))
        fundings = models.PositionFundings.from_dict((await self.get("/api/v1/positionFunding",
                                                                     {"account_index": self.account, "limit": 5,
                                                                      "auth": token}))[1])
        self.assertEqual(["long"], [f.position_side for f in fundings.position_fundings])
        nonce = models.NextNonce.from_dict((await self.get("/api/v1/nextNonce", {"account_index": self.account,
                                                                                 "api_key_index": self.key}))[1])
        self.assertEqual(3, nonce.nonce)
        keys = models.AccountApiKeys.from_dict((await self.get("/api/v1/apikeys", {"account_index": self.account,
                                                                                   "api_key_index": self.key}))[1])
        self.assertEqual([(self.key, 3)], [(k.api_key_index, k.nonce) for k in keys.api_keys])

    async def test_check_client_matches_the_registered_key(self):
        # the Go signer does a blocking HTTP GET /api/v1/apikeys: keep it off the event loop
        loop = asyncio.get_running_loop()
        self.assertIsNone(await loop.run_in_executor(None, self.signer.check_client))
        private_key, _, _ = create_api_key()
        other_account = self.ex.create_account()
        self.ex.register_api_key(other_account, 4, "ab" * 40)
        mismatched = SignerClient(url=self.ex.rest_url, account_index=other_account,
                                  api_private_keys={4: private_key})
        self.assertIsNotNone(await loop.run_in_executor(None, mismatched.check_client))
        await mismatched.close()

    async def test_funding_rates_include_other_venues(self):
        body = (await self.get("/api/v1/funding-rates"))[1]
        venues = {row["exchange"] for row in body["funding_rates"]}
        self.assertTrue({"lighter", "binance"} <= venues)
        lighter_eth = [row for row in body["funding_rates"] if row["exchange"] == "lighter" and row["market_id"] == 0]
        self.assertAlmostEqual(0.0012 / 100 * 8, lighter_eth[0]["rate"])

    async def test_errors_use_the_json_envelope(self):
        token = self.auth_token()
        cases = [
            ("/api/v1/nope", None, None, 404, 404),
            ("/api/v1/orderBookOrders", {"market_id": "x", "limit": 5}, None, 400, 20001),
            ("/api/v1/orderBookOrders", {"market_id": 0}, None, 400, 20001),
            ("/api/v1/orderBookDetails", {"market_id": 99}, None, 400, 20001),
            ("/api/v1/account", {"by": "index", "value": 424242}, None, 400, 21100),
            ("/api/v1/accountActiveOrders", {"account_index": self.account, "market_id": 0}, None, 400, 20001),
            ("/api/v1/nextNonce", {"account_index": self.account, "api_key_index": 200}, None, 400, 21109),
            ("/api/v1/trades", {"sort_by": "bogus", "limit": 5}, None, 400, 20001),
            ("/api/v1/accountActiveOrders", {"account_index": self.account + 1, "market_id": 0},
             {"authorization": token}, 401, 20013),
        ]
        for path, params, headers, status, code in cases:
            with self.subTest(path=path, params=params):
                got_status, body = await self.get(path, params, headers)
                self.assertEqual((status, code), (got_status, body["code"]))
                self.assertIsInstance(body["message"], str)
        missing = (await self.get("/api/v1/accountActiveOrders", {"account_index": self.account, "market_id": 0}))[1]
        self.assertEqual("invalid param : auth query param and Authorization header are empty", missing["message"])

    async def test_expired_and_malformed_tokens_are_refused(self):
        expired, _ = self.signer.create_auth_token_with_expiry(10, timestamp=int(time.time()) - 100,
                                                               api_key_index=self.key)
        params = {"account_index": self.account, "market_id": 0}
        status, body = await self.get("/api/v1/accountActiveOrders", dict(params, auth=expired))
        self.assertEqual((401, {"code": 20013, "message": "invalid auth: expired token"}), (status, body))
        status, body = await self.get("/api/v1/accountActiveOrders", dict(params, auth="1:2:3"))
        self.assertEqual((401, 20013), (status, body["code"]))
        too_long, _ = self.signer.create_auth_token_with_expiry(9 * 3600, api_key_index=self.key)
        status, body = await self.get("/api/v1/accountActiveOrders", dict(params, auth=too_long))
        self.assertEqual((401, "invalid auth: invalid deadline"), (status, body["message"]))

    async def test_inactive_orders_paginate_with_cursor(self):
        for i in range(3):
            await self.send_tx(*self.sign_order(client_index=90 + i, price=230000 + i))
            await self.send_tx(*self.sign_cancel(90 + i))
        token = self.auth_token()
        params = {"account_index": self.account, "limit": 2, "auth": token}
        first = (await self.get("/api/v1/accountInactiveOrders", params))[1]
        second = (await self.get("/api/v1/accountInactiveOrders", dict(params, cursor=first["next_cursor"])))[1]
        seen = [o["client_order_index"] for o in first["orders"] + second["orders"]]
        self.assertEqual([92, 91, 90, 8], seen)
        self.assertEqual("", second["next_cursor"])
