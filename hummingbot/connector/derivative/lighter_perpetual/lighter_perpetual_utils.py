import binascii
import json
import re
from decimal import Decimal
from typing import Callable, Optional

from pydantic import ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from hummingbot.client.config.config_data_types import BaseConnectorConfigMap
from hummingbot.connector.derivative.lighter_perpetual import lighter_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.trade_fee import TradeFeeSchema

CENTRALIZED = False
EXAMPLE_PAIR = "ETH-USDC"

# Standard accounts trade without fees; the fee charged on each fill is taken from the trade itself. Every fee is
# paid in USDC, the collateral, whether the fill opens or closes a position.
DEFAULT_FEES = TradeFeeSchema(
    percent_fee_token="USDC",
    maker_percent_fee_decimal=Decimal("0"),
    taker_percent_fee_decimal=Decimal("0"),
    buy_percent_fee_deducted_from_returns=False,
)

DEFAULT_ACCOUNT_TIER = CONSTANTS.ACCOUNT_TIERS[0]
_YES = ("yes", "y", "true")
_NO = ("no", "n", "false", "")
_HEX_KEY = re.compile(rf"^(0x)?[0-9a-fA-F]{{{CONSTANTS.API_PRIVATE_KEY_HEX_LENGTH}}}$")
_L1_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _is_hummingbot_ciphertext(value: str) -> bool:
    """Hummingbot validates a connector's config file while its secrets are still encrypted (hex of a keyfile JSON)
    and again once they are decrypted; only the clear text is checked."""
    try:
        return "crypto" in json.loads(binascii.unhexlify(value))
    except (ValueError, TypeError, binascii.Error):
        return False


def validate_api_private_key(value) -> str:
    key = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
    if not _HEX_KEY.match(key) and not _is_hummingbot_ciphertext(key):
        # The key itself is never echoed back: only its shape is described.
        raise ValueError(
            f"The API private key must be {CONSTANTS.API_PRIVATE_KEY_HEX_LENGTH} hexadecimal characters (optionally "
            f"prefixed with 0x), as shown once when the API key was created on Lighter.")
    return key


def validate_api_key_index(value) -> int:
    try:
        index = int(str(value).strip())
    except ValueError:
        index = -1
    if not 0 <= index <= CONSTANTS.MAX_API_KEY_INDEX:
        raise ValueError(
            f"The API key index must be a whole number from 0 to {CONSTANTS.MAX_API_KEY_INDEX} "
            f"(the index shown next to the API key on Lighter's API keys page).")
    return index


def validate_account_index(value) -> int:
    try:
        index = int(str(value).strip())
    except ValueError:
        index = -1
    if index < 0:
        raise ValueError(
            "The account index must be a whole number of 0 or more (Lighter shows it in the account menu).")
    return index


def validate_l1_address(value) -> Optional[str]:
    address = "" if value is None else str(value).strip()
    if address and not _L1_ADDRESS.match(address):
        raise ValueError("The L1 address must be 0x followed by 40 hexadecimal characters, or left empty.")
    return address


def validate_account_tier(value) -> str:
    answer = "" if value is None else str(value).strip()
    if not answer:
        return DEFAULT_ACCOUNT_TIER
    tiers = {tier.lower(): tier for tier in CONSTANTS.ACCOUNT_TIERS}
    tier = tiers.get(answer.lower())
    if tier is None:
        raise ValueError(f"The account tier must be one of {', '.join(CONSTANTS.ACCOUNT_TIERS)}, "
                         f"or empty for {DEFAULT_ACCOUNT_TIER}.")
    return tier


def validate_yes_no(value) -> bool:
    """An empty answer is "no": Hummingbot builds keyless connectors (market data, paper trading, trading-pair lookup)
    with every unset or false setting replaced by ""."""
    if isinstance(value, bool):
        return value
    answer = "" if value is None else str(value).strip().lower()
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    raise ValueError("Answer yes or no (y, n, true and false work too); an empty answer means no.")


def _seconds(value, parse: Callable[[str], float], default: float) -> float:
    """An empty answer (keyless builds pass "", files saved before a setting hold None) is the default; text that
    is not a number is -1, which every range refuses."""
    answer = "" if value is None else str(value).strip()
    if not answer:
        return default
    try:
        return parse(answer)
    except ValueError:
        return -1


def validate_dead_man_switch_seconds(value) -> int:
    """0 turns the switch off."""
    seconds = _seconds(value, int, CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS)
    if seconds != 0 and not CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS <= seconds <= CONSTANTS.DEAD_MAN_SWITCH_MAX_SECONDS:
        raise ValueError(f"The dead man's switch must be 0 (off) or a whole number of seconds from "
                         f"{CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS} (Lighter's shortest scheduled cancel-all) to "
                         f"{CONSTANTS.DEAD_MAN_SWITCH_MAX_SECONDS} (15 days), or empty for "
                         f"{CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS}.")
    return seconds


def validate_max_order_age_seconds(value) -> float:
    seconds = _seconds(value, float, CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS)
    if not 0 < seconds <= CONSTANTS.MAX_ORDER_AGE_LIMIT_SECONDS:
        raise ValueError(f"The maximum order age must be a number of seconds above 0 and at most "
                         f"{CONSTANTS.MAX_ORDER_AGE_LIMIT_SECONDS:.0f}, or empty for "
                         f"{CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS:g}.")
    return seconds


_VALIDATORS_BY_SUFFIX = {
    "_api_private_key": validate_api_private_key,
    "_api_key_index": validate_api_key_index,
    "_account_index": validate_account_index,
    "_l1_address": validate_l1_address,
    "_account_tier": validate_account_tier,
    "_cancel_all_on_stop": validate_yes_no,
    "_dead_man_switch_seconds": validate_dead_man_switch_seconds,
    "_max_order_age_seconds": validate_max_order_age_seconds,
}


def _field(title: str, what: str, secure: bool = False, default=...):
    return Field(default=default, json_schema_extra={
        "prompt": f"Enter your {title} {what}", "is_secure": secure, "is_connect_key": True, "prompt_on_new": True})


def _cancel_all_on_stop_field():
    # Hummingbot pre-fills a prompt with str(default): None leaves the answer empty (= no) instead of "False".
    return Field(default=None, json_schema_extra={
        "prompt": "Cancel every open order of the account (other bots' too) when the connector stops? "
                  "(yes/no, empty for no)",
        "is_connect_key": True, "prompt_on_new": True})


def _dead_man_switch_field():
    # Not pre-filled: digits typed after a pre-filled "300" would make another valid window (300600 s) unnoticed.
    # None (a file saved before this setting, or an empty answer) is the default window.
    return Field(default=None, json_schema_extra={
        "prompt": f"Dead man's switch: Lighter cancels every open order of the account if the bot stops renewing it "
                  f"for this many seconds ({CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS} or more, 0 turns it off, empty for "
                  f"{CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS})",
        "is_connect_key": True, "prompt_on_new": True})


def _max_order_age_field():
    # Not asked at connect (the default suits every tier); edited in the connector's file under conf/connectors/.
    return Field(default=CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS, json_schema_extra={
        "prompt": "Fail an order still unsent this many seconds after it was placed (waiting for room in the rate "
                  "budget) instead of sending it at a stale price",
        "is_connect_key": True, "prompt_on_new": False})


class _LighterConfigMapBase(BaseConnectorConfigMap):
    """Mainnet and testnet maps differ only in field names; each field is validated by its suffix."""
    # A rejected value (possibly a key) stays out of the validation error's text.
    model_config = ConfigDict(hide_input_in_errors=True)

    @field_validator("*", mode="before")
    @classmethod
    def _validate_by_suffix(cls, value, info: ValidationInfo):
        for suffix, validate in _VALIDATORS_BY_SUFFIX.items():
            if info.field_name.endswith(suffix):
                try:
                    return validate(value)
                except ValueError as error:
                    # Hummingbot prints the error's "msg": a ValueError's reads "Value error, <reason>".
                    raise PydanticCustomError("invalid_setting", "{reason}", {"reason": str(error)})
        return value


_TIERS = "/".join(CONSTANTS.ACCOUNT_TIERS)


class LighterPerpetualConfigMap(_LighterConfigMapBase):
    connector: str = CONSTANTS.DEFAULT_DOMAIN
    lighter_perpetual_api_private_key: SecretStr = _field("Lighter", "API private key", secure=True)
    lighter_perpetual_api_key_index: int = _field("Lighter", f"API key index (0-{CONSTANTS.MAX_API_KEY_INDEX})")
    lighter_perpetual_account_index: int = _field("Lighter", "account index (main account or sub-account)")
    lighter_perpetual_l1_address: str = _field("Lighter", "L1 address (optional, checks the account owner)", default="")
    lighter_perpetual_account_tier: str = _field("Lighter", f"account tier ({_TIERS})", default=DEFAULT_ACCOUNT_TIER)
    lighter_perpetual_cancel_all_on_stop: Optional[bool] = _cancel_all_on_stop_field()
    lighter_perpetual_dead_man_switch_seconds: Optional[int] = _dead_man_switch_field()
    lighter_perpetual_max_order_age_seconds: float = _max_order_age_field()
    model_config = ConfigDict(title=CONSTANTS.DEFAULT_DOMAIN)


KEYS = LighterPerpetualConfigMap.model_construct()

OTHER_DOMAINS = [CONSTANTS.TESTNET_DOMAIN]
OTHER_DOMAINS_PARAMETER = {CONSTANTS.TESTNET_DOMAIN: CONSTANTS.TESTNET_DOMAIN}
OTHER_DOMAINS_EXAMPLE_PAIR = {CONSTANTS.TESTNET_DOMAIN: EXAMPLE_PAIR}
OTHER_DOMAINS_DEFAULT_FEES = {CONSTANTS.TESTNET_DOMAIN: DEFAULT_FEES}


class LighterPerpetualTestnetConfigMap(_LighterConfigMapBase):
    connector: str = CONSTANTS.TESTNET_DOMAIN
    lighter_perpetual_testnet_api_private_key: SecretStr = _field("Lighter testnet", "API private key", secure=True)
    lighter_perpetual_testnet_api_key_index: int = _field(
        "Lighter testnet", f"API key index (0-{CONSTANTS.MAX_API_KEY_INDEX})")
    lighter_perpetual_testnet_account_index: int = _field("Lighter testnet", "account index")
    lighter_perpetual_testnet_l1_address: str = _field("Lighter testnet", "L1 address (optional)", default="")
    lighter_perpetual_testnet_account_tier: str = _field("Lighter testnet", f"account tier ({_TIERS})",
                                                         default=DEFAULT_ACCOUNT_TIER)
    lighter_perpetual_testnet_cancel_all_on_stop: Optional[bool] = _cancel_all_on_stop_field()
    lighter_perpetual_testnet_dead_man_switch_seconds: Optional[int] = _dead_man_switch_field()
    lighter_perpetual_testnet_max_order_age_seconds: float = _max_order_age_field()
    model_config = ConfigDict(title=CONSTANTS.TESTNET_DOMAIN)


OTHER_DOMAINS_KEYS = {CONSTANTS.TESTNET_DOMAIN: LighterPerpetualTestnetConfigMap.model_construct()}
