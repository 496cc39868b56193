"""Order signature check: recompute the Stark order hash from the posted fields with the x10 SDK's own settlement
code (amounts from qty/price/fee and the market's l2Config, expiration = expiry + 14 days) and verify it with
fast_stark_crypto against the account's registered public key."""
from datetime import datetime, timezone
from decimal import Decimal
from typing import Optional

from fast_stark_crypto import verify
from x10.config import MAINNET_CONFIG
from x10.core.client_config import StarknetDomain
from x10.models.market import MarketModel
from x10.models.order import OrderSide
from x10.signing.order_object_settlement import SettlementDataCtx, create_order_settlement_data

DEFAULT_DOMAIN = MAINNET_CONFIG.signing.starknet_domain


class _HashCapture:
    """Stands in for the SDK signer so the settlement code hands us the message hash instead of signing it."""

    def __init__(self):
        self.msg_hash: Optional[int] = None

    def __call__(self, msg_hash: int):
        self.msg_hash = msg_hash
        return 0, 0


def order_msg_hash(*, market: MarketModel, side: str, qty: Decimal, price: Decimal, fee: Decimal,
                   builder_fee: Optional[Decimal], nonce: int, vault: int, expiry_epoch_millis: int,
                   public_key: int, domain: StarknetDomain) -> int:
    capture = _HashCapture()
    ctx = SettlementDataCtx(
        market=market,
        taker_fee=fee,
        builder_fee=builder_fee,
        nonce=nonce,
        collateral_position_id=vault,
        expire_time=datetime.fromtimestamp(expiry_epoch_millis / 1000, tz=timezone.utc),
        signer=capture,
        public_key=public_key,
        starknet_domain=domain,
    )
    create_order_settlement_data(side=OrderSide(side), synthetic_amount=qty, price=price, ctx=ctx)
    return capture.msg_hash


def signature_valid(public_key: int, msg_hash: int, r: int, s: int) -> bool:
    try:
        return verify(public_key=public_key, msg_hash=msg_hash, r=r, s=s)
    except (ValueError, OverflowError):
        # out-of-range r/s are rejected by the native library
        return False
