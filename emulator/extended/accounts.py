"""Emulated accounts: Stark key pair (derived with fast_stark_crypto), API key, vault and trading settings."""
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, Optional

from fast_stark_crypto import get_public_key
from x10.core.stark_account import StarkPerpetualAccount

from emulator.extended.fmt import now_ms

DEFAULT_MAKER_FEE = Decimal("0.0002")
DEFAULT_TAKER_FEE = Decimal("0.0005")
DEFAULT_LEVERAGE = Decimal("10")
# Stark private keys live below the curve order (~2**251 + ...); 2**250 keeps every draw valid.
_PRIVATE_KEY_BOUND = 2 ** 250


@dataclass(eq=False)
class Account:
    account_id: int
    client_id: int
    api_key: str = field(repr=False)
    stark_private_key: str = field(repr=False)
    stark_public_key: str
    vault: int
    collateral: Decimal
    maker_fee: Decimal = DEFAULT_MAKER_FEE
    taker_fee: Decimal = DEFAULT_TAKER_FEE
    builder_fee: Decimal = Decimal("0")
    default_leverage: Decimal = DEFAULT_LEVERAGE
    leverage: Dict[str, Decimal] = field(default_factory=dict)
    synthetic: bool = False
    description: str = "Main account"
    updated_time: int = field(default_factory=now_ms)
    dead_man_deadline_ms: Optional[int] = None

    @property
    def public_key_int(self) -> int:
        return int(self.stark_public_key, 16)

    def leverage_for(self, market: str) -> Decimal:
        return self.leverage.get(market, self.default_leverage)

    def stark_account(self):
        """The x10 SDK account object for signing orders as this account."""
        return StarkPerpetualAccount(vault=self.vault, private_key=self.stark_private_key,
                                     public_key=self.stark_public_key, api_key=self.api_key)


def new_key_pair() -> tuple:
    private_key = secrets.randbelow(_PRIVATE_KEY_BOUND - 1) + 1
    return hex(private_key), hex(get_public_key(private_key))


def new_api_key() -> str:
    return secrets.token_hex(16)
