"""The ranges of the fields Lighter's signer takes (lighter-go types/txtypes/constants.go), each at its boundaries, and
the fat-finger band as Lighter documents it."""
import unittest
from decimal import Decimal

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_order_checks as checks
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_parsers import LighterMarket

NOW_MS = 1_700_000_000_000
MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


def market(size_decimals: int = 4, price_decimals: int = 2, market_id: int = 0) -> LighterMarket:
    return LighterMarket(market_id=market_id, symbol="ETH", trading_pair="ETH-USDC", size_decimals=size_decimals,
                         price_decimals=price_decimals, min_base_amount=Decimal("0.005"), min_quote_amount=Decimal(10),
                         maker_fee=Decimal(0), taker_fee=Decimal(0), default_initial_margin_fraction=500,
                         min_initial_margin_fraction=200, active=True)


class SignedFieldRangeTests(unittest.TestCase):
    def test_price_ticks_hold_up_to_2_pow_32_minus_1_and_refuse_one_more(self):
        self.assertEqual(2 ** 32 - 1, checks.price_ticks(market(), Decimal("42949672.95")))
        self.assertEqual(1, checks.price_ticks(market(), Decimal("0.01")))
        with self.assertRaisesRegex(checks.OrderRefused, r"^Price 42949672.96 is outside what Lighter can sign for "
                                                         r"ETH-USDC: with 2 price decimals it must be 0.01 to "
                                                         r"42949672.95.$"):
            checks.price_ticks(market(), Decimal("42949672.96"))
        with self.assertRaisesRegex(checks.OrderRefused, "Price 0.009 is outside"):
            checks.price_ticks(market(), Decimal("0.009"))

    def test_the_price_that_wrapped_is_refused(self):
        # 5,000,000,000 ticks: as a 32-bit C int it was signed as 705,032,704 ticks, i.e. 7,050,327.04.
        self.assertEqual(705_032_704, 5_000_000_000 % 2 ** 32)
        with self.assertRaisesRegex(checks.OrderRefused, "Price 50000000 is outside"):
            checks.price_ticks(market(), Decimal("50000000"))

    def test_the_price_range_follows_the_market_decimals(self):
        with self.assertRaisesRegex(checks.OrderRefused, "with 4 price decimals it must be 0.0001 to 429496.7295"):
            checks.price_ticks(market(price_decimals=4), Decimal("429496.7296"))

    def test_base_amount_holds_up_to_2_pow_48_minus_1(self):
        largest = Decimal(2 ** 48 - 1).scaleb(-4)
        self.assertEqual(2 ** 48 - 1, checks.base_amount(market(), largest))
        with self.assertRaisesRegex(checks.OrderRefused, r"^Amount 28147497671.0656 is outside what Lighter can sign "
                                                         r"for ETH-USDC: with 4 size decimals it must be 0.0001 to "
                                                         r"28147497671.0655.$"):
            checks.base_amount(market(), largest + Decimal("0.0001"))
        with self.assertRaisesRegex(checks.OrderRefused, "Amount 0.00009 is outside"):
            checks.base_amount(market(), Decimal("0.00009"))

    def test_client_order_index_is_1_to_2_pow_48_minus_1(self):
        self.assertEqual(2 ** 48 - 1, checks.client_order_index(str(2 ** 48 - 1)))
        self.assertEqual(1, checks.client_order_index("1"))
        for refused in (str(2 ** 48), "0", "-5", "HBOT-1"):
            with self.subTest(refused=refused), self.assertRaisesRegex(
                    checks.OrderRefused, f"^Client order id {refused} is not one Lighter can sign: it must be a whole "
                                         f"number from 1 to 281474976710655.$"):
                checks.client_order_index(refused)

    def test_order_expiry_is_none_for_ioc_the_signer_default_or_5_minutes_to_30_days_ahead(self):
        self.assertEqual(0, checks.order_expiry(0, NOW_MS, immediate_or_cancel=True))
        with self.assertRaisesRegex(checks.OrderRefused, "cannot carry an expiry"):
            checks.order_expiry(-1, NOW_MS, immediate_or_cancel=True)
        self.assertEqual(-1, checks.order_expiry(-1, NOW_MS, immediate_or_cancel=False))
        for ok in (NOW_MS + 5 * MINUTE_MS, NOW_MS + 30 * DAY_MS):
            self.assertEqual(ok, checks.order_expiry(ok, NOW_MS, immediate_or_cancel=False))
        for refused in (0, NOW_MS + 5 * MINUTE_MS - 1, NOW_MS + 30 * DAY_MS + 1):
            with self.subTest(refused=refused), self.assertRaisesRegex(checks.OrderRefused, "5 minutes to 30 days"):
                checks.order_expiry(refused, NOW_MS, immediate_or_cancel=False)

    def test_market_index_is_a_perpetual_one(self):
        self.assertEqual(254, checks.market_index(market(market_id=254)))
        with self.assertRaisesRegex(checks.OrderRefused, r"market id 255, outside .* \(0 to 254\)"):
            checks.market_index(market(market_id=255))


class FatFingerTests(unittest.TestCase):
    def test_a_buy_is_bounded_by_the_lower_of_mark_and_best_ask(self):
        self.assertEqual((Decimal("2625.00"), "mark price 2500"),
                         checks.fat_finger_limit(False, Decimal(2500), Decimal(2499), Decimal(2505)))
        self.assertEqual((Decimal("2520.00"), "best ask 2400"),
                         checks.fat_finger_limit(False, Decimal(2500), Decimal(2399), Decimal(2400)))

    def test_a_sell_is_bounded_by_the_higher_of_mark_and_best_bid(self):
        self.assertEqual((Decimal("2470.00"), "best bid 2600"),
                         checks.fat_finger_limit(True, Decimal(2500), Decimal(2600), Decimal(2601)))
        self.assertEqual((Decimal("2375.00"), "mark price 2500"),
                         checks.fat_finger_limit(True, Decimal(2500), None, None))

    def test_without_any_reference_the_exchange_decides(self):
        self.assertIsNone(checks.fat_finger_limit(True, None, None, None))
        self.assertIsNone(checks.fat_finger_limit(False, Decimal(0), None, Decimal("NaN")))
        checks.check_fat_finger(market(), False, Decimal(10 ** 6), None, None, None)

    def test_edges_pass_and_one_tick_beyond_is_refused(self):
        checks.check_fat_finger(market(), False, Decimal("2625.00"), Decimal(2500), None, Decimal(2505))
        with self.assertRaisesRegex(checks.OrderRefused, r"^Buy price 2625.01 is above Lighter's fat-finger limit for "
                                                         r"ETH-USDC: at most 5% over the mark price 2500, so at most "
                                                         r"2625.00.$"):
            checks.check_fat_finger(market(), False, Decimal("2625.01"), Decimal(2500), None, Decimal(2505))
        checks.check_fat_finger(market(), True, Decimal("2375.00"), Decimal(2500), Decimal(2499), None)
        with self.assertRaisesRegex(checks.OrderRefused, "Sell price 2374.99 is below .* so at least 2375.00."):
            checks.check_fat_finger(market(), True, Decimal("2374.99"), Decimal(2500), Decimal(2499), None)

    def test_a_market_order_bound_is_pulled_inside_the_band_on_the_tick_grid(self):
        # Best ask 2505 x 1.01 = 2530.05, but min(mark 2000, 2505) x 1.05 = 2100.
        self.assertEqual(Decimal("2100.00"), checks.clamp_to_fat_finger(
            market(), False, Decimal("2530.05"), Decimal(2000), Decimal(2500), Decimal(2505)))
        self.assertEqual(Decimal("2530.05"), checks.clamp_to_fat_finger(
            market(), False, Decimal("2530.05"), Decimal(2500), Decimal(2500), Decimal(2505)))
        # A sell: max(mark 2000.01, bid 1900) x 0.95 = 1900.0095, rounded up to the grid.
        self.assertEqual(Decimal("1900.01"), checks.clamp_to_fat_finger(
            market(), True, Decimal("1881.00"), Decimal("2000.01"), Decimal(1900), Decimal(1901)))
