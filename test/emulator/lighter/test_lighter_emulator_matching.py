"""Matching engine and accounting, driven in-process (no sockets)."""
import unittest
from decimal import Decimal

from emulator.lighter import LighterEmulator, constants as C
from emulator.lighter.engine import Events
from emulator.lighter.margin import summarize
from emulator.lighter.views import position_view


class MatchingTests(unittest.IsolatedAsyncioTestCase):

    async def asyncSetUp(self):
        self.ex = LighterEmulator()
        self.alice = self.ex.create_account(collateral=Decimal("10000"))
        self.bob = self.ex.create_account(collateral=Decimal("10000"))

    def test_price_time_priority(self):
        first = self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        better = self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2499"))
        second = self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        taker = self.ex.place_order(self.bob, 0, False, Decimal("0.25"), Decimal("2500"), time_in_force=C.TIF_IOC)
        self.assertEqual("filled", better.status)
        self.assertEqual("filled", first.status)
        self.assertEqual(500, second.remaining_base)
        self.assertEqual("filled", taker.status)
        prices = [fill.price for fill in self.ex.state.fills]
        self.assertEqual([249900, 250000, 250000], prices)
        self.assertEqual([better, first, second], [fill.maker for fill in self.ex.state.fills])

    def test_post_only_that_would_take_is_canceled_post_only(self):
        self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        order = self.ex.place_order(self.bob, 0, False, Decimal("0.1"), Decimal("2500"),
                                    time_in_force=C.TIF_POST_ONLY)
        self.assertEqual("canceled-post-only", order.status)
        self.assertEqual([], self.ex.state.fills)
        resting = self.ex.place_order(self.bob, 0, False, Decimal("0.1"), Decimal("2499.99"),
                                      time_in_force=C.TIF_POST_ONLY)
        self.assertEqual("open", resting.status)

    def test_market_order_stops_at_its_price_bound(self):
        self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2600"))
        order = self.ex.place_order(self.bob, 0, False, Decimal("0.3"), Decimal("2550"), time_in_force=C.TIF_IOC,
                                    order_type=C.ORDER_TYPE_MARKET)
        self.assertEqual(1000, order.filled_base)
        self.assertEqual("canceled-too-much-slippage", order.status)
        empty = self.ex.place_order(self.bob, 1, False, Decimal("0.01"), Decimal("70000"), time_in_force=C.TIF_IOC,
                                    order_type=C.ORDER_TYPE_MARKET)
        self.assertEqual("canceled-not-enough-liquidity", empty.status)
        ioc = self.ex.place_order(self.bob, 0, False, Decimal("0.1"), Decimal("2550"), time_in_force=C.TIF_IOC)
        self.assertEqual("canceled", ioc.status)

    def test_reduce_only_cannot_open_or_increase(self):
        order = self.ex.place_order(self.bob, 0, True, Decimal("0.1"), Decimal("2500"), reduce_only=True)
        self.assertEqual("canceled-reduce-only", order.status)
        self.ex.place_order(self.alice, 0, True, Decimal("0.2"), Decimal("2500"))
        self.ex.submit_taker(0, False, Decimal("0.1"), account_index=self.bob)
        same_side = self.ex.place_order(self.bob, 0, False, Decimal("0.1"), Decimal("2400"), reduce_only=True)
        self.assertEqual("canceled-reduce-only", same_side.status)
        closing = self.ex.place_order(self.bob, 0, True, Decimal("0.5"), Decimal("2600"), reduce_only=True)
        self.assertEqual(("open", 1000), (closing.status, closing.remaining_base))

    def test_self_trade_cancels_the_resting_maker(self):
        maker = self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        other = self.ex.place_order(self.bob, 0, True, Decimal("0.1"), Decimal("2501"))
        taker = self.ex.place_order(self.alice, 0, False, Decimal("0.1"), Decimal("2501"), time_in_force=C.TIF_IOC)
        self.assertEqual("canceled-self-trade", maker.status)
        self.assertEqual(("filled", "filled"), (other.status, taker.status))
        self.assertEqual(1, len(self.ex.state.fills))

    def test_fees_positions_and_realized_pnl(self):
        self.ex.set_fees(maker=Decimal("0.0002"), taker=Decimal("0.0005"))
        self.ex.place_order(self.alice, 0, True, Decimal("1"), Decimal("2000"))
        self.ex.place_order(self.bob, 0, False, Decimal("1"), Decimal("2000"), time_in_force=C.TIF_IOC)
        fill = self.ex.state.fills[-1]
        self.assertEqual((200, 500), (fill.maker_fee_ticks, fill.taker_fee_ticks))
        self.assertEqual((400_000, 1_000_000), (fill.maker_fee_paid, fill.taker_fee_paid))
        self.assertEqual(Decimal("9999.6"), self.ex.balance(self.alice))
        self.assertEqual(Decimal("9999"), self.ex.balance(self.bob))
        bob = self.ex.state.accounts[self.bob]
        self.assertEqual((10_000, 2_000_000_000), (bob.positions[0].size, bob.positions[0].entry_quote))
        # close half at 2100: +50 realized, minus the taker fee on 1050
        self.ex.place_order(self.alice, 0, False, Decimal("0.5"), Decimal("2100"))
        self.ex.place_order(self.bob, 0, True, Decimal("0.5"), Decimal("2100"), time_in_force=C.TIF_IOC)
        self.assertEqual(50_000_000, bob.positions[0].realized_pnl)
        self.assertEqual(Decimal("9999") + Decimal("50") - Decimal("0.525"), self.ex.balance(self.bob))
        self.ex.set_index_price(0, Decimal("2200"))
        view = position_view(bob, bob.positions[0], self.ex.state)
        self.assertEqual(("0.5000", 1, "2000.00", "100.000000"),
                         (view["position"], view["sign"], view["avg_entry_price"], view["unrealized_pnl"]))
        alice_view = position_view(self.ex.state.accounts[self.alice],
                                   self.ex.state.accounts[self.alice].positions[0], self.ex.state)
        self.assertEqual(("0.5000", -1, "-100.000000"),
                         (alice_view["position"], alice_view["sign"], alice_view["unrealized_pnl"]))

    def test_funding_moves_collateral_from_longs_to_shorts(self):
        self.ex.set_funding_rate(0, Decimal("0.0100"))
        self.ex.place_order(self.alice, 0, True, Decimal("1"), Decimal("2500"))
        self.ex.submit_taker(0, False, Decimal("1"), account_index=self.bob)
        self.ex.apply_funding([0])
        # 1 ETH at mark 2500, 0.01% per hour: 0.25 USDC
        self.assertEqual(Decimal("9999.75"), self.ex.balance(self.bob))
        self.assertEqual(Decimal("10000.25"), self.ex.balance(self.alice))
        payment = self.ex.state.accounts[self.bob].fundings[-1]
        self.assertEqual(("long", -250_000, "0.0100"), (payment.position_side, payment.change, payment.rate))

    def test_margin_summary_counts_positions_and_open_orders(self):
        self.ex.place_order(self.alice, 0, True, Decimal("2"), Decimal("2500"))
        self.ex.submit_taker(0, False, Decimal("2"), account_index=self.bob)
        self.ex.place_order(self.bob, 0, False, Decimal("1"), Decimal("2400"))
        summary = summarize(self.ex.state.accounts[self.bob], self.ex.state.markets)
        # 5% of (2 ETH at mark 2500 + 1 ETH bid at 2400)
        self.assertEqual(370_000_000, summary.initial_requirement)
        self.assertEqual(Decimal("9630"), Decimal(summary.available) / 10 ** 6)

    def test_expired_orders_are_canceled_expired(self):
        order = self.ex.place_order(self.alice, 0, True, Decimal("0.1"), Decimal("2500"))
        self.ex.engine.expire_orders(Events(), now=order.order_expiry - 1)
        self.assertEqual("open", order.status)
        self.ex.engine.expire_orders(Events(), now=order.order_expiry + 1)
        self.assertEqual("canceled-expired", order.status)
        self.assertEqual([], self.ex.book_levels(0)["asks"])
