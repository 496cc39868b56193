"""The x10 SDK's own REST client and pydantic models work against the emulator unchanged."""
import json
from decimal import ROUND_DOWN, Decimal
from typing import List

from x10.clients.rest import RestApiClient
from x10.core.stark_account import StarkPerpetualAccount
from x10.errors import ApiError, ApiNotAuthorizedError, ApiRateLimitError
from x10.models.account import AccountStreamDataModel
from x10.models.funding_rate import FundingRateModel
from x10.models.http import WrappedStreamResponseModel
from x10.models.order import OrderSide, OrderStatus
from x10.models.orderbook import OrderbookUpdateModel
from x10.models.trade import PublicTradeModel

from test.emulator.extended.extended_emulator_helpers import EmulatorTestCase


class SdkRestClientTests(EmulatorTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.client = RestApiClient(self.ex.client_config(), self.stark)

    async def asyncTearDown(self):
        await self.client.close()
        await super().asyncTearDown()

    async def test_public_info_parses_into_sdk_models(self):
        markets = (await self.client.info.get_markets()).data
        self.assertEqual({"BTC-USD", "ETH-USD"}, {m.name for m in markets})
        btc = next(m for m in markets if m.name == "BTC-USD")
        self.assertEqual(Decimal("0.00001"), btc.trading_config.min_order_size_change)
        self.assertEqual(1_000_000, btc.l2_config.synthetic_resolution)
        stats = (await self.client.info.get_market_statistics(market_name="BTC-USD")).data
        self.assertEqual(self.ex.state.markets["BTC-USD"].mark_price, stats.mark_price)
        book = (await self.client.info.get_orderbook_snapshot(market_name="BTC-USD")).data
        self.assertEqual(self.ex.state.books["BTC-USD"].best("BUY"), book.bid[0].price)
        candles = (await self.client.info.get_candles_history(market_name="BTC-USD", candle_type="mark-prices",
                                                              interval="PT1M", limit=5)).data
        self.assertEqual(5, len(candles))
        self.assertGreater(candles[0].timestamp, candles[-1].timestamp)

    async def test_place_order_with_sdk_client_rests_and_cancels(self):
        placed = await self.client.place_order(market_name="BTC-USD", amount_of_synthetic=Decimal("0.001"),
                                               price=Decimal("76000"), side=OrderSide.BUY, taker_fee=Decimal("0.0005"))
        open_orders = (await self.client.account.get_open_orders(market_names=["BTC-USD"])).data
        self.assertEqual([placed.data.id], [o.id for o in open_orders])
        self.assertEqual(OrderStatus.NEW, open_orders[0].status)
        by_external = (await self.client.account.get_order_by_external_id(placed.data.external_id)).data
        self.assertEqual(placed.data.id, by_external[0].id)
        await self.client.orders.cancel_order(placed.data.id)
        order = (await self.client.account.get_order_by_id(placed.data.id)).data
        self.assertEqual(OrderStatus.CANCELLED, order.status)
        history = (await self.client.account.get_orders_history()).data
        self.assertEqual([placed.data.id], [o.id for o in history])

    async def test_fill_appears_in_trades_positions_and_balance(self):
        self.ex.synthetic_maker("BTC-USD", "SELL", Decimal("0.01"), Decimal("77260"))
        placed = await self.client.place_order(market_name="BTC-USD", amount_of_synthetic=Decimal("0.01"),
                                               price=Decimal("77260"), side=OrderSide.BUY, taker_fee=Decimal("0.0005"))
        trades = (await self.client.account.get_trades(market_names=["BTC-USD"])).data
        self.assertEqual([(placed.data.id, Decimal("0.01"), True)], [(t.order_id, t.qty, t.is_taker) for t in trades])
        self.assertEqual(Decimal("0.386300"), trades[0].fee)  # 0.01 * 77260 * 0.0005 taker
        positions = (await self.client.account.get_positions()).data
        self.assertEqual([("BTC-USD", Decimal("0.01"))], [(p.market, p.size) for p in positions])
        balance = (await self.client.account.get_balance()).data
        self.assertEqual(Decimal("10000") - Decimal("0.3863"), balance.balance)

    async def test_account_settings_endpoints(self):
        fees = (await self.client.account.get_fees(market_names=["BTC-USD"])).data
        self.assertEqual(Decimal("0.0005"), fees[0].taker_fee_rate)
        await self.client.account.update_leverage(market_name="BTC-USD", leverage=Decimal("20"))
        leverage = (await self.client.account.get_leverage(market_names=["BTC-USD"])).data
        self.assertEqual(Decimal("20"), leverage[0].leverage)
        account = (await self.client.account.get_account()).data
        self.assertEqual(self.acct.vault, account.l2_vault)
        self.assertEqual(self.acct.stark_public_key, account.l2_key)

    async def test_mass_cancel_with_sdk_client(self):
        for price in ("75000", "75100", "75200"):
            await self.client.place_order(market_name="BTC-USD", amount_of_synthetic=Decimal("0.001"),
                                          price=Decimal(price), side=OrderSide.BUY, taker_fee=Decimal("0.0005"))
        await self.client.orders.mass_cancel(markets=["BTC-USD"], cancel_all=True)
        self.assertEqual([], (await self.client.account.get_open_orders()).data)
        self.assertEqual(3, len(self.ex.state.account_orders(self.acct.account_id)))

    async def test_sdk_errors_for_http_statuses(self):
        self.ex.faults.rate_limit_next("/user/balance")
        with self.assertRaises(ApiRateLimitError):
            await self.client.account.get_balance()
        unknown_key = StarkPerpetualAccount(vault=self.acct.vault, private_key=self.acct.stark_private_key,
                                            public_key=self.acct.stark_public_key, api_key="0" * 32)
        empty = self.ex.create_account(collateral=Decimal(0)).stark_account()
        async with RestApiClient(self.ex.client_config(), unknown_key) as stranger, \
                RestApiClient(self.ex.client_config(), empty) as unfunded:
            with self.assertRaises(ApiNotAuthorizedError):
                await stranger.account.get_balance()
            with self.assertRaisesRegex(ApiError, "code 404"):
                await unfunded.account.get_balance()


class SdkStreamModelTests(EmulatorTestCase):
    async def test_stream_frames_parse_into_sdk_models(self):
        book_model = WrappedStreamResponseModel[OrderbookUpdateModel]
        async with await self.connect("/orderbooks/BTC-USD") as ws:
            snapshot = book_model.model_validate_json(json.dumps(await self.recv(ws)))
            self.assertEqual("BTC-USD", snapshot.data.market)
            self.assertEqual(self.ex.state.books["BTC-USD"].best("SELL"), snapshot.data.ask[0].price)
        async with await self.connect("/publicTrades/BTC-USD") as ws:
            self.ex.synthetic_taker("BTC-USD", "BUY", Decimal("0.0001"))
            trades = WrappedStreamResponseModel[List[PublicTradeModel]].model_validate_json(
                json.dumps(await self.recv(ws)))
            self.assertEqual(OrderSide.BUY, trades.data[0].side)
        async with await self.connect("/funding/BTC-USD") as ws:
            funding = WrappedStreamResponseModel[FundingRateModel].model_validate_json(json.dumps(await self.recv(ws)))
            self.assertEqual(self.ex.state.markets["BTC-USD"].funding_rate, funding.data.funding_rate)

    async def test_account_frames_parse_into_sdk_models(self):
        model = WrappedStreamResponseModel[AccountStreamDataModel]
        async with await self.connect("/account", headers=self.headers()) as ws:
            frames = [model.model_validate_json(json.dumps(await self.recv(ws))) for _ in range(3)]
            self.assertEqual(Decimal("10000"), frames[1].data.balance.balance)
            price = self.inside_price("BUY")
            await self.place("BUY", "0.002", price)
            self.ex.synthetic_taker("BTC-USD", "SELL", Decimal("0.002"), Decimal(price))
            trade = await self.recv_until(ws, lambda f: f["type"] == "TRADE")
            parsed = model.model_validate_json(json.dumps(trade))
        fill = parsed.data.trades[0]
        self.assertFalse(fill.is_taker)
        # maker fee rate 0.0002, charged in collateral units cut to 6 decimals
        expected = (Decimal("0.002") * Decimal(price) * Decimal("0.0002")).quantize(Decimal("0.000001"), ROUND_DOWN)
        self.assertEqual(expected, fill.fee)
