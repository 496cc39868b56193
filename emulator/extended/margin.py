"""Cross-margin arithmetic: equity, initial/maintenance margin, available balance, liquidation price."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Optional

from emulator.extended.accounts import Account
from emulator.extended.fmt import ZERO, dstr, money
from emulator.extended.markets import MarketState
from emulator.extended.models import Position


@dataclass
class MarginView:
    collateral: Decimal
    unrealised: Decimal
    initial_margin: Decimal
    maintenance: Decimal
    exposure: Decimal

    @property
    def equity(self) -> Decimal:
        return self.collateral + self.unrealised

    @property
    def available_for_trade(self) -> Decimal:
        return self.equity - self.initial_margin

    def to_json(self, updated_time: int) -> dict:
        equity = self.equity
        available = self.available_for_trade
        ratio = (self.maintenance / equity).quantize(Decimal("0.0001")) if equity > 0 else ZERO
        leverage = self.exposure / equity if equity > 0 else ZERO
        return {
            "collateralName": "USD",
            "balance": money(self.collateral),
            "status": "ACTIVE",
            "equity": money(equity),
            "availableForTrade": money(available),
            "availableForWithdrawal": money(max(ZERO, min(self.collateral, available))),
            "unrealisedPnl": money(self.unrealised),
            "initialMargin": money(self.initial_margin),
            "marginRatio": dstr(ratio),
            "updatedTime": updated_time,
            "exposure": dstr(self.exposure),
            "leverage": format(leverage.quantize(Decimal("0.0001")), "f"),
        }


def compute_margin(account: Account, positions: Dict[str, Position], resting: Dict[str, List[Decimal]],
                   markets: Dict[str, MarketState]) -> MarginView:
    """`resting` holds, per market, the [buy, sell] notional of the account's resting orders."""
    unrealised = initial = maintenance = exposure = ZERO
    for market_name in set(positions) | set(resting):
        market = markets[market_name]
        position = positions.get(market_name)
        if position is not None and position.size:
            value = abs(position.size) * market.mark_price
            unrealised += position.unrealised_pnl(market.mark_price)
            exposure += value
            max_leverage = market.max_leverage_for_value(value) or market.spec.max_leverage
            maintenance += value / max_leverage / 2
        # margin covers the larger notional the market reaches if every resting order of one side fills
        base = position.size * market.mark_price if position is not None else ZERO
        buys, sells = resting.get(market_name, (ZERO, ZERO))
        initial += max(abs(base + buys), abs(base - sells)) / account.leverage_for(market_name)
    return MarginView(collateral=account.collateral, unrealised=unrealised, initial_margin=initial,
                      maintenance=maintenance, exposure=exposure)


def liquidation_price(view: MarginView, position: Position, market: MarketState) -> Optional[Decimal]:
    """Mark price at which equity falls to maintenance margin, other positions held constant."""
    if not position.size:
        return None
    price = market.mark_price - (view.equity - view.maintenance) / position.size
    if price <= 0:
        return None
    return price.quantize(market.spec.min_price_change)
