"""Market configuration and live market state (prices, funding rate, tick history)."""
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Deque, List, Optional, Tuple

from emulator.extended.fmt import dstr, money, now_ms

MARKET_STATUSES = ("ACTIVE", "REDUCE_ONLY", "DELISTED", "PRELISTED", "DISABLED")
TRADABLE_STATUSES = ("ACTIVE", "REDUCE_ONLY", "PRELISTED")
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TICK_HISTORY = 100_000


@dataclass
class MarketSpec:
    """Static trading rules of one market, named like the wire's tradingConfig / l2Config."""

    name: str
    asset_name: str
    asset_precision: int
    min_order_size: Decimal
    min_order_size_change: Decimal
    min_price_change: Decimal
    synthetic_id: str
    initial_price: Decimal
    description: str = ""
    sub_category: str = "L1"
    synthetic_resolution: int = 1_000_000
    collateral_id: str = "0x1"
    collateral_resolution: int = 1_000_000
    max_market_order_value: Decimal = Decimal("3000000")
    max_limit_order_value: Decimal = Decimal("15000000")
    max_position_value: Decimal = Decimal("60000000")
    max_leverage: Decimal = Decimal("50")
    max_num_orders: int = 200
    limit_price_cap: Decimal = Decimal("0.05")
    limit_price_floor: Decimal = Decimal("0.05")
    hourly_funding_rate_cap: Decimal = Decimal("0.25")
    # (upper bound of position value, risk factor); max leverage of a tier = 1 / risk factor
    risk_factors: Tuple[Tuple[Decimal, Decimal], ...] = (
        (Decimal("4000000"), Decimal("0.02")),
        (Decimal("8000000"), Decimal("0.04")),
        (Decimal("20000000"), Decimal("0.1")),
        (Decimal("60000000"), Decimal("0.2")),
    )
    funding_rate: Decimal = Decimal("0.000013")
    status: str = "ACTIVE"


def default_markets() -> List[MarketSpec]:
    """BTC-USD as in the live /info/markets capture; ETH-USD with the same layout (its sizes are [inferred])."""
    return [
        MarketSpec(
            name="BTC-USD", asset_name="BTC", asset_precision=5, description="Bitcoin",
            min_order_size=Decimal("0.0001"), min_order_size_change=Decimal("0.00001"),
            min_price_change=Decimal("1"), synthetic_id="0x4254432d3600000000000000000000",
            initial_price=Decimal("77259"),
        ),
        MarketSpec(
            name="ETH-USD", asset_name="ETH", asset_precision=3, description="Ethereum",
            min_order_size=Decimal("0.01"), min_order_size_change=Decimal("0.001"),
            min_price_change=Decimal("0.1"), synthetic_id="0x4554482d3600000000000000000000",
            initial_price=Decimal("2950.5"), max_leverage=Decimal("50"),
            max_market_order_value=Decimal("2000000"), max_limit_order_value=Decimal("10000000"),
            max_position_value=Decimal("40000000"), funding_rate=Decimal("0.000011"),
        ),
    ]


MAINNET_MARKETS_FILE = Path(__file__).with_name("mainnet_markets.txt")


def synthetic_id(asset: str) -> str:
    """BTC-USD's and ETH-USD's ids are the ASCII of "BTC-6" / "ETH-6" padded to 15 bytes; others follow [inferred]."""
    return "0x" + f"{asset}-6".encode().hex().ljust(30, "0")


def mainnet_markets() -> List[MarketSpec]:
    """Extended's mainnet market list (mainnet_markets.txt, with its sources): BTC-USD and ETH-USD as in
    default_markets(); every other market gets one inferred layout (whole-unit sizes, a price of 1 with 4 decimals),
    enough for a run that counts markets, requests and messages, not for prices."""
    known = {spec.name: spec for spec in default_markets()}
    names = [line.strip() for line in MAINNET_MARKETS_FILE.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    specs = []
    for name in names:
        asset = name.rsplit("-", 1)[0]
        specs.append(known.get(name) or MarketSpec(
            name=name, asset_name=asset, asset_precision=0, description=asset, min_order_size=Decimal("10"),
            min_order_size_change=Decimal("1"), min_price_change=Decimal("0.0001"),
            synthetic_id=synthetic_id(asset), initial_price=Decimal("1"), sub_category="Other"))
    return specs


def next_funding_time(ts_ms: int) -> int:
    return (ts_ms // HOUR_MS + 1) * HOUR_MS


@dataclass
class MarketState:
    spec: MarketSpec
    status: str
    mark_price: Decimal
    index_price: Decimal
    last_price: Decimal
    funding_rate: Decimal
    created_at: int = field(default_factory=now_ms)
    trade_ticks: Deque[Tuple[int, Decimal, Decimal]] = field(default_factory=lambda: deque(maxlen=TICK_HISTORY))
    mark_ticks: Deque[Tuple[int, Decimal, Decimal]] = field(default_factory=lambda: deque(maxlen=TICK_HISTORY))
    index_ticks: Deque[Tuple[int, Decimal, Decimal]] = field(default_factory=lambda: deque(maxlen=TICK_HISTORY))

    @classmethod
    def from_spec(cls, spec: MarketSpec) -> "MarketState":
        state = cls(spec=spec, status=spec.status, mark_price=spec.initial_price, index_price=spec.initial_price,
                    last_price=spec.initial_price, funding_rate=spec.funding_rate)
        state.mark_ticks.append((state.created_at, spec.initial_price, Decimal(0)))
        state.index_ticks.append((state.created_at, spec.initial_price, Decimal(0)))
        return state

    @property
    def name(self) -> str:
        return self.spec.name

    def set_prices(self, mark: Optional[Decimal] = None, index: Optional[Decimal] = None):
        ts = now_ms()
        if mark is not None:
            self.mark_price = mark
            self.mark_ticks.append((ts, mark, Decimal(0)))
        if index is not None:
            self.index_price = index
            self.index_ticks.append((ts, index, Decimal(0)))

    def record_trade(self, ts: int, price: Decimal, qty: Decimal):
        self.last_price = price
        self.trade_ticks.append((ts, price, qty))

    def max_leverage_for_value(self, position_value: Decimal) -> Decimal:
        for upper_bound, risk_factor in self.spec.risk_factors:
            if position_value <= upper_bound:
                return min(self.spec.max_leverage, Decimal(1) / risk_factor)
        return Decimal(0)

    def daily_stats(self, now: int) -> dict:
        window = [t for t in self.trade_ticks if t[0] >= now - DAY_MS]
        prices = [p for _, p, _ in window] or [self.last_price]
        volume_base = sum((q for _, _, q in window), Decimal(0))
        volume = sum((p * q for _, p, q in window), Decimal(0))
        change = prices[-1] - prices[0]
        return {
            "dailyVolume": money(volume),
            "dailyVolumeBase": dstr(volume_base),
            "dailyPriceChange": dstr(change),
            "dailyPriceChangePercentage": dstr((change / prices[0]).quantize(Decimal("0.0001"))),
            "dailyLow": dstr(min(prices)),
            "dailyHigh": dstr(max(prices)),
        }

    def to_json(self, best_bid: Optional[Decimal], best_ask: Optional[Decimal], open_interest_base: Decimal) -> dict:
        """The /info/markets entry (field names and JSON types as in the live capture + SDK MarketModel)."""
        spec = self.spec
        now = now_ms()
        stats = self.daily_stats(now)
        stats.update({
            "lastPrice": dstr(self.last_price),
            "askPrice": dstr(best_ask if best_ask is not None else self.mark_price),
            "bidPrice": dstr(best_bid if best_bid is not None else self.mark_price),
            "markPrice": dstr(self.mark_price),
            "indexPrice": dstr(self.index_price),
            "fundingRate": dstr(self.funding_rate),
            "nextFundingRate": next_funding_time(now),
            "openInterest": money(open_interest_base * self.mark_price),
            "openInterestBase": dstr(open_interest_base),
            "deleverageLevels": {
                "shortPositions": [{"level": 1, "rankingLowerBound": "0.0000"}],
                "longPositions": [{"level": 1, "rankingLowerBound": "0.0000"}],
            },
        })
        return {
            "name": spec.name,
            "uiName": spec.name,
            "category": "Crypto",
            "subCategory": spec.sub_category,
            "assetName": spec.asset_name,
            "assetPrecision": spec.asset_precision,
            "collateralAssetName": "USD",
            "collateralAssetPrecision": 6,
            "description": spec.description,
            "type": "PERPETUAL",
            "isRfq": False,
            "isOffHours": False,
            "tradingHours": "CONTINUOUS",
            "active": self.status in TRADABLE_STATUSES,
            "status": self.status,
            "marketStats": stats,
            "tradingConfig": {
                "minOrderSize": dstr(spec.min_order_size),
                "minOrderSizeChange": dstr(spec.min_order_size_change),
                "minPriceChange": dstr(spec.min_price_change),
                "maxMarketOrderValue": dstr(spec.max_market_order_value),
                "maxLimitOrderValue": dstr(spec.max_limit_order_value),
                "maxPositionValue": dstr(spec.max_position_value),
                "maxLeverage": format(spec.max_leverage.quantize(Decimal("0.01")), "f"),
                "hourlyFundingRateCap": dstr(spec.hourly_funding_rate_cap),
                "maxNumOrders": str(spec.max_num_orders),
                "limitPriceCap": dstr(spec.limit_price_cap),
                "limitPriceFloor": dstr(spec.limit_price_floor),
                "riskFactorConfig": [
                    {"upperBound": dstr(upper), "riskFactor": dstr(factor), "isAvailableForUsers": True}
                    for upper, factor in spec.risk_factors
                ],
            },
            "l2Config": {
                "type": "STARKX",
                "collateralId": spec.collateral_id,
                "syntheticId": spec.synthetic_id,
                "syntheticResolution": spec.synthetic_resolution,
                "collateralResolution": spec.collateral_resolution,
            },
            "visibleOnUi": True,
            "createdAt": self.created_at,
        }
