"""What the connector checks before it signs an order: every integer the signer takes is within the range of its field
(the signer would otherwise wrap it, or refuse it in its own terms), and the price is inside Lighter's fat-finger band.
Each refusal is one sentence in the user's units (prices and amounts, not ticks)."""
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Optional, Tuple

from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.connector.derivative.lighter_perpetual.lighter_perpetual_parsers import LighterMarket

_ONE = Decimal(1)


class OrderRefused(ValueError):
    """An order the connector does not send; its text is the sentence the user sees."""


def _range_text(low: Decimal, high: Decimal) -> str:
    return f"{low:f} to {high:f}"


def price_ticks(market: LighterMarket, price: Decimal) -> int:
    """The price as the signer's uint32 tick count."""
    ticks = market.scaled_price(price)
    if not CONSTANTS.MIN_PRICE_TICKS <= ticks <= CONSTANTS.MAX_PRICE_TICKS:
        low = market.price_increment * CONSTANTS.MIN_PRICE_TICKS
        high = market.price_increment * CONSTANTS.MAX_PRICE_TICKS
        raise OrderRefused(f"Price {price:f} is outside what Lighter can sign for {market.trading_pair}: with "
                           f"{market.price_decimals} price decimals it must be {_range_text(low, high)}.")
    return ticks


def base_amount(market: LighterMarket, amount: Decimal) -> int:
    """The amount as the signer's base amount (an int64 capped at 2^48 - 1)."""
    units = market.scaled_amount(amount)
    if not CONSTANTS.MIN_BASE_AMOUNT <= units <= CONSTANTS.MAX_BASE_AMOUNT:
        low = market.size_increment * CONSTANTS.MIN_BASE_AMOUNT
        high = market.size_increment * CONSTANTS.MAX_BASE_AMOUNT
        raise OrderRefused(f"Amount {amount:f} is outside what Lighter can sign for {market.trading_pair}: with "
                           f"{market.size_decimals} size decimals it must be {_range_text(low, high)}.")
    return units


def client_order_index(order_id: str) -> int:
    try:
        index = int(order_id)
    except ValueError:
        index = None
    if index is None or not CONSTANTS.MIN_CLIENT_ORDER_INDEX <= index <= CONSTANTS.MAX_CLIENT_ORDER_INDEX:
        raise OrderRefused(f"Client order id {order_id} is not one Lighter can sign: it must be a whole number from "
                           f"{CONSTANTS.MIN_CLIENT_ORDER_INDEX} to {CONSTANTS.MAX_CLIENT_ORDER_INDEX}.")
    return index


def order_expiry(expiry_ms: int, now_ms: int, immediate_or_cancel: bool) -> int:
    """IOC orders carry no expiry; others the signer's 28-day default or a time 5 minutes to 30 days ahead."""
    if immediate_or_cancel:
        if expiry_ms != CONSTANTS.ORDER_EXPIRY_NONE:
            raise OrderRefused("An immediate-or-cancel order cannot carry an expiry on Lighter.")
        return expiry_ms
    if expiry_ms == CONSTANTS.ORDER_EXPIRY_SIGNER_DEFAULT:
        return expiry_ms
    if not (now_ms + CONSTANTS.MIN_ORDER_EXPIRY_PERIOD_MS <= expiry_ms
            <= now_ms + CONSTANTS.MAX_ORDER_EXPIRY_PERIOD_MS):
        raise OrderRefused(f"Order expiry {expiry_ms} (ms) is outside what Lighter accepts: it must be 5 minutes to "
                           f"30 days from now.")
    return expiry_ms


def market_index(market: LighterMarket) -> int:
    if not 0 <= market.market_id <= CONSTANTS.MAX_PERPS_MARKET_INDEX:
        raise OrderRefused(f"{market.trading_pair} has market id {market.market_id}, outside the perpetual market ids "
                           f"Lighter can sign (0 to {CONSTANTS.MAX_PERPS_MARKET_INDEX}).")
    return market.market_id


def fat_finger_limit(is_ask: bool, mark: Optional[Decimal], best_bid: Optional[Decimal],
                     best_ask: Optional[Decimal]) -> Optional[Tuple[Decimal, str]]:
    """The lowest sell price or the highest buy price Lighter's fat-finger check lets through, with the reference it
    was taken from; None while no reference is known (the exchange then decides alone)."""
    references = [(value, name) for value, name in
                  ((mark, "mark price"), (best_bid if is_ask else best_ask, "best bid" if is_ask else "best ask"))
                  if value is not None and value.is_finite() and value > 0]
    if not references:
        return None
    if is_ask:
        value, name = max(references)
        return value * (_ONE - CONSTANTS.FAT_FINGER_BAND), f"{name} {value:f}"
    value, name = min(references)
    return value * (_ONE + CONSTANTS.FAT_FINGER_BAND), f"{name} {value:f}"


def check_fat_finger(market: LighterMarket, is_ask: bool, price: Decimal, mark: Optional[Decimal],
                     best_bid: Optional[Decimal], best_ask: Optional[Decimal]):
    limit = fat_finger_limit(is_ask, mark, best_bid, best_ask)
    if limit is None:
        return
    bound, reference = limit
    band = f"{CONSTANTS.FAT_FINGER_BAND:%}"
    if is_ask and price < bound:
        raise OrderRefused(f"Sell price {price:f} is below Lighter's fat-finger limit for {market.trading_pair}: at "
                           f"most {band} under the {reference}, so at least {_to_tick(market, bound, True):f}.")
    if not is_ask and price > bound:
        raise OrderRefused(f"Buy price {price:f} is above Lighter's fat-finger limit for {market.trading_pair}: at "
                           f"most {band} over the {reference}, so at most {_to_tick(market, bound, False):f}.")


def clamp_to_fat_finger(market: LighterMarket, is_ask: bool, price: Decimal, mark: Optional[Decimal],
                        best_bid: Optional[Decimal], best_ask: Optional[Decimal]) -> Decimal:
    """A market order's bounding price, pulled inside the band (on the tick grid) when it lies beyond."""
    limit = fat_finger_limit(is_ask, mark, best_bid, best_ask)
    if limit is None:
        return price
    bound = _to_tick(market, limit[0], is_ask)
    return max(price, bound) if is_ask else min(price, bound)


def _to_tick(market: LighterMarket, price: Decimal, round_up: bool) -> Decimal:
    step = market.price_increment
    return (price / step).to_integral_value(rounding=ROUND_CEILING if round_up else ROUND_FLOOR) * step
