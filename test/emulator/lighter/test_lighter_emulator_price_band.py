"""The emulator's fat-finger check on signed limit orders, as Lighter documents it (docs.lighter.xyz, order types and
matching): a sell below max(mark, best bid) x 0.95 or a buy above min(mark, best ask) x 1.05 is refused."""
from decimal import Decimal

from test.emulator.lighter.lighter_emulator_support import EmulatorTestCase

INVALID_PRICE = {"code": 21702, "message": "invalid price"}


class PriceBandTests(EmulatorTestCase):
    collateral = Decimal("1000000")

    async def test_a_buy_may_reach_5_percent_over_the_mark_and_not_one_tick_more(self):
        # Mark (index) price 2500.00, no asks: the mark alone is the reference.
        self.assertEqual((400, INVALID_PRICE),
                         await self.send_tx(*self.sign_order(client_index=1, base=100, price=262501)))
        # The refused transaction did not take its nonce.
        self.assertEqual(200, (await self.send_tx(*self.sign_order(client_index=2, base=100, price=262500,
                                                                   nonce=0)))[0])
        resting = self.ex.state.accounts[self.account].active_orders.values()
        self.assertEqual([2], [order.client_order_index for order in resting])

    async def test_a_buy_is_measured_from_the_best_ask_when_it_is_below_the_mark(self):
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, True, Decimal("1"), Decimal("2400"))
        self.assertEqual((400, INVALID_PRICE),
                         await self.send_tx(*self.sign_order(client_index=1, base=100, price=252001)))
        self.assertEqual(200, (await self.send_tx(*self.sign_order(client_index=2, base=100, price=252000,
                                                                   nonce=0)))[0])

    async def test_a_sell_is_measured_from_the_higher_of_mark_and_best_bid(self):
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, False, Decimal("1"), Decimal("2600"))
        # max(2500, 2600) x 0.95 = 2470.00
        self.assertEqual((400, INVALID_PRICE),
                         await self.send_tx(*self.sign_order(client_index=1, base=100, price=246999, is_ask=True)))
        self.assertEqual(200, (await self.send_tx(*self.sign_order(client_index=2, base=100, price=247000,
                                                                   is_ask=True, nonce=0)))[0])

    async def test_a_market_order_is_bounded_by_its_own_price_not_refused(self):
        maker = self.ex.create_account(collateral=Decimal("1000000"))
        self.ex.place_order(maker, 0, True, Decimal("1"), Decimal("2505"))
        status, _ = await self.send_tx(*self.sign_order(client_index=1, base=100, price=375000, order_type=1, tif=0))
        self.assertEqual(200, status)
        self.assertEqual(1, len(self.ex.state.accounts[self.account].fills))
