"""Wire formatting helpers: decimal strings, millisecond clocks and exchange-style ids."""
import time
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

COLLATERAL_QUANT = Decimal("0.000001")
ZERO = Decimal(0)


def dstr(value: Decimal) -> str:
    """Plain decimal string without exponent or trailing zeros ("76214", "0.00165")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def money(value: Decimal) -> str:
    """Collateral amounts carry 6 decimals on the wire ("7.667333", "0.000000")."""
    return format(value.quantize(COLLATERAL_QUANT, rounding=ROUND_HALF_EVEN), "f")


def fee_amount(value: Decimal) -> Decimal:
    """The fee charged on a fill: notional x rate cut (truncated toward zero) to the collateral's 6 decimals, not
    rounded. Source: the x10 SDK's account-stream TRADE frame (payloads/extended_14): a taker fill of value 58.2498 at
    the default 0.05% taker rate (0.0291249) charged fee 0.029124. The SDK rounds up only the signed maximum fee."""
    return value.quantize(COLLATERAL_QUANT, rounding=ROUND_DOWN)


def now_ms() -> int:
    return int(time.time() * 1000)


class IdGenerator:
    """Monotonic 64-bit ids shaped like the exchange's (millisecond time in the high bits)."""

    def __init__(self):
        self._last = now_ms() << 20

    def next(self) -> int:
        candidate = now_ms() << 20
        self._last = candidate if candidate > self._last else self._last + 1
        return self._last
