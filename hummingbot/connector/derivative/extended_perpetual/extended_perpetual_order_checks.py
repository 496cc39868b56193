"""Checks made before the x10 SDK signs an order, so that a refusal is one sentence in the user's units.

The Stark order hash takes the synthetic and collateral amounts as signed 64-bit integers (fast_stark_crypto refuses a
larger one with "number too large to fit in target type"). Extended's own limits (size steps, price ticks, maximum order
value, price cap and floor) are checked by the derivative with the market's trading rules."""
from decimal import ROUND_CEILING, Decimal

from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.extended_perpetual.extended_perpetual_parsers import MarketSpec


class OrderRefused(ValueError):
    """An order the connector does not send; its text is the sentence the user sees."""


def _stark_units(value: Decimal, resolution: int) -> int:
    # The SDK rounds buys up and sells down: the larger of the two decides whether the field can hold it.
    return int((value * resolution).to_integral_value(rounding=ROUND_CEILING))


def check_stark_amounts(spec: MarketSpec, amount: Decimal, price: Decimal):
    if _stark_units(amount, spec.synthetic_resolution) > CONSTANTS.MAX_STARK_AMOUNT:
        most = Decimal(CONSTANTS.MAX_STARK_AMOUNT) / spec.synthetic_resolution
        raise OrderRefused(f"Amount {amount:f} is more than an Extended order can sign for {spec.trading_pair}: at "
                           f"most {most:f} {spec.base}.")
    value = amount * price
    if _stark_units(value, spec.collateral_resolution) > CONSTANTS.MAX_STARK_AMOUNT:
        most = Decimal(CONSTANTS.MAX_STARK_AMOUNT) / spec.collateral_resolution
        raise OrderRefused(f"Order value {value:f} {spec.quote} is more than an Extended order can sign for "
                           f"{spec.trading_pair}: at most {most:f} {spec.quote}.")
