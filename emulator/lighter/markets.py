"""Perpetual market specifications and the fixed-point formatting Lighter uses on the wire.

Amounts are kept as integers: base amounts in units of 10^-size_decimals, prices in units of
10^-price_decimals and USDC in micro-USDC (10^-6), exactly as signed transactions carry them.
"""
from dataclasses import dataclass
from decimal import Decimal
from typing import List

USDC_DECIMALS = 6
MICRO = 10 ** USDC_DECIMALS


def fmt_fixed(value: int, decimals: int) -> str:
    """Formats an integer amount scaled by 10^decimals as a plain decimal string ("-0.0050")."""
    if decimals == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10 ** decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def to_int(value: Decimal, decimals: int) -> int:
    """Scales a Decimal to an integer amount, truncating extra precision."""
    return int((Decimal(value) * (10 ** decimals)).to_integral_value(rounding="ROUND_DOWN"))


@dataclass
class MarketSpec:
    """Static description of one perpetual market.

    Fees are fractions (Decimal("0.0002") is 0.02%); margin fractions are in 1/10000 like the API;
    `funding_rate` is the hourly rate in percent, as market_stats shows it ("0.0012").
    """
    market_id: int
    symbol: str
    size_decimals: int
    price_decimals: int
    min_base_amount: Decimal
    min_quote_amount: Decimal
    initial_price: Decimal
    default_initial_margin_fraction: int = 500
    min_initial_margin_fraction: int = 200
    maintenance_margin_fraction: int = 120
    closeout_margin_fraction: int = 80
    maker_fee: Decimal = Decimal("0")
    taker_fee: Decimal = Decimal("0")
    funding_rate: Decimal = Decimal("0.0012")
    status: str = "active"

    def __post_init__(self):
        if self.size_decimals + self.price_decimals > USDC_DECIMALS:
            raise ValueError("size_decimals + price_decimals must not exceed 6 (quote precision)")
        self.quote_multiplier = 10 ** (USDC_DECIMALS - self.size_decimals - self.price_decimals)
        self.min_base_int = to_int(self.min_base_amount, self.size_decimals)
        self.min_quote_micro = to_int(self.min_quote_amount, USDC_DECIMALS)

    @property
    def maker_fee_ticks(self) -> int:
        """Fee in 1e-6 units, as trades carry it (maker_fee 20 == 0.002%)."""
        return int(self.maker_fee * 1_000_000)

    @property
    def taker_fee_ticks(self) -> int:
        return int(self.taker_fee * 1_000_000)

    def quote_micro(self, base: int, price: int) -> int:
        """USDC value, in micro-USDC, of `base` units at `price`."""
        return base * price * self.quote_multiplier

    def size_str(self, base: int) -> str:
        return fmt_fixed(base, self.size_decimals)

    def price_str(self, price: int) -> str:
        return fmt_fixed(price, self.price_decimals)

    def price_int(self, price: Decimal) -> int:
        return to_int(price, self.price_decimals)

    def size_int(self, size: Decimal) -> int:
        return to_int(size, self.size_decimals)


def default_markets() -> List[MarketSpec]:
    """ETH (0) and BTC (1) with mainnet decimals, minimums and margin fractions."""
    return [
        MarketSpec(market_id=0, symbol="ETH", size_decimals=4, price_decimals=2,
                   min_base_amount=Decimal("0.0050"), min_quote_amount=Decimal("10"),
                   initial_price=Decimal("2500.00")),
        MarketSpec(market_id=1, symbol="BTC", size_decimals=5, price_decimals=1,
                   min_base_amount=Decimal("0.00020"), min_quote_amount=Decimal("10"),
                   initial_price=Decimal("65000.0"), default_initial_margin_fraction=500,
                   min_initial_margin_fraction=200, maintenance_margin_fraction=120,
                   closeout_margin_fraction=80),
    ]
