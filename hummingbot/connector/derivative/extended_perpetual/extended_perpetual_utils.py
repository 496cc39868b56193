import binascii
import json
import re
from decimal import Decimal
from typing import Callable

from pydantic import AliasChoices, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from hummingbot.client.config.config_data_types import BaseConnectorConfigMap
from hummingbot.connector.derivative.extended_perpetual import extended_perpetual_constants as CONSTANTS
from hummingbot.core.data_type.trade_fee import TradeFeeSchema

CENTRALIZED = False
EXAMPLE_PAIR = "BTC-USD"

# Extended's default schedule (0.02% maker, 0.05% taker); the connector reads the account's own rates from /user/fees.
DEFAULT_FEES = TradeFeeSchema(
    maker_percent_fee_decimal=Decimal("0.0002"),
    taker_percent_fee_decimal=Decimal("0.0005"),
    buy_percent_fee_deducted_from_returns=False,
)

_STARK_KEY = re.compile(rf"^0x[0-9a-fA-F]{{1,{CONSTANTS.STARK_KEY_MAX_HEX_DIGITS}}}$")
_API_KEY = re.compile(r"^[0-9A-Za-z_-]{16,128}$")


def _is_hummingbot_ciphertext(value: str) -> bool:
    """Hummingbot validates a connector's config file while its secrets are still encrypted (hex of a keyfile JSON)
    and again once they are decrypted; only the clear text is checked."""
    try:
        return "crypto" in json.loads(binascii.unhexlify(value))
    except (ValueError, TypeError, binascii.Error):
        return False


def _plain(value) -> str:
    return str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()


def validate_api_key(value) -> str:
    key = _plain(value)
    if not _API_KEY.match(key) and not _is_hummingbot_ciphertext(key):
        raise ValueError(
            "The API key must be the 16 to 128 letters and digits shown on Extended's API management page.")
    return key


def _stark_key_validator(what: str):
    def validate(value) -> str:
        key = _plain(value)
        if not _STARK_KEY.match(key) and not _is_hummingbot_ciphertext(key):
            # The key itself is never echoed back: only its shape is described.
            raise ValueError(f"The Stark {what} key must be 0x followed by up to {CONSTANTS.STARK_KEY_MAX_HEX_DIGITS} "
                             f"hexadecimal characters, as shown on Extended's API management page.")
        return key
    return validate


validate_stark_private_key = _stark_key_validator("private")
validate_stark_public_key = _stark_key_validator("public")


def validate_vault(value) -> int:
    try:
        vault = int(str(value).strip())
    except ValueError:
        vault = 0
    if vault <= 0:
        raise ValueError("The vault number must be a positive whole number (Extended shows it with the API key).")
    return vault


def _seconds(value, parse: Callable[[str], float], default: float) -> float:
    """An empty answer (keyless builds pass "", files saved before a setting hold None) is the default; text that
    is not a number is -1, which every range refuses."""
    text = "" if value is None else str(value).strip()
    if not text:
        return default
    try:
        return parse(text)
    except ValueError:
        return -1


def validate_dead_man_switch_seconds(value) -> int:
    """0 turns the switch off."""
    seconds = _seconds(value, int, CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS)
    if seconds != 0 and not CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS <= seconds <= CONSTANTS.DEAD_MAN_SWITCH_MAX_SECONDS:
        raise ValueError(f"The dead man's switch must be 0 (off) or a whole number of seconds from "
                         f"{CONSTANTS.DEAD_MAN_SWITCH_MIN_SECONDS} to {CONSTANTS.DEAD_MAN_SWITCH_MAX_SECONDS}, or "
                         f"empty for {CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS}.")
    return seconds


def validate_max_order_age_seconds(value) -> float:
    seconds = _seconds(value, float, CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS)
    # "nan" parses, and compares false with everything: refused by the range as it is written.
    if not 0 < seconds <= CONSTANTS.MAX_ORDER_AGE_LIMIT_SECONDS:
        raise ValueError(f"The maximum order age must be a number of seconds above 0 and at most "
                         f"{CONSTANTS.MAX_ORDER_AGE_LIMIT_SECONDS:.0f}, or empty for "
                         f"{CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS:g}.")
    return seconds


_VALIDATORS_BY_SUFFIX = {
    "_api_secret": validate_api_key,
    "_stark_private_key": validate_stark_private_key,
    "_stark_public_key": validate_stark_public_key,
    "_vault": validate_vault,
    "_dead_man_switch_seconds": validate_dead_man_switch_seconds,
    "_max_order_age_seconds": validate_max_order_age_seconds,
}


def _field(title: str, what: str, secure: bool = False, **kwargs):
    return Field(default=..., json_schema_extra={
        "prompt": f"Enter your {title} {what}", "is_secure": secure, "is_connect_key": True, "prompt_on_new": True},
        **kwargs)


def _dead_man_switch_field(title: str):
    # Hummingbot pre-fills the prompt with the default; an emptied answer is the default too.
    return Field(default=CONSTANTS.DEAD_MAN_SWITCH_DEFAULT_SECONDS, json_schema_extra={
        "prompt": f"Enter the dead man's switch window in seconds ({title} cancels every open order of the account if "
                  f"the bot stops renewing it for that long; 0 turns it off)",
        "is_connect_key": True, "prompt_on_new": True})


def _max_order_age_field():
    # Not asked at connect (the default suits both tiers); edited in the connector's file under conf/connectors/.
    return Field(default=CONSTANTS.MAX_ORDER_AGE_DEFAULT_SECONDS, json_schema_extra={
        "prompt": "Fail an order still unsent this many seconds after it was placed (waiting for room in the rate "
                  "budget) instead of sending it at a stale price",
        "is_connect_key": True, "prompt_on_new": False})


def _api_key_field(domain: str, title: str):
    # Hummingbot's `connect` prints the stored value of the first field whose name contains "api_key" in clear
    # ("replace your existing ... API key <value>?"): Extended's API key, a secret, is stored as <domain>_api_secret.
    # Files written under the former name still load.
    return _field(title, "API key", secure=True,
                  validation_alias=AliasChoices(f"{domain}_api_secret", f"{domain}_api_key"))


class _ExtendedConfigMapBase(BaseConnectorConfigMap):
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
                    raise PydanticCustomError("invalid_setting", "{reason}", {"reason": str(error)}) from None
        return value


class ExtendedPerpetualConfigMap(_ExtendedConfigMapBase):
    connector: str = CONSTANTS.DEFAULT_DOMAIN
    extended_perpetual_api_secret: SecretStr = _api_key_field(CONSTANTS.DEFAULT_DOMAIN, "Extended")
    extended_perpetual_stark_private_key: SecretStr = _field("Extended", "Stark private key", secure=True)
    extended_perpetual_stark_public_key: str = _field("Extended", "Stark public key")
    extended_perpetual_vault: int = _field("Extended", "vault number (collateral position id)")
    extended_perpetual_dead_man_switch_seconds: int = _dead_man_switch_field("Extended")
    extended_perpetual_max_order_age_seconds: float = _max_order_age_field()
    model_config = ConfigDict(title=CONSTANTS.DEFAULT_DOMAIN)


KEYS = ExtendedPerpetualConfigMap.model_construct()

OTHER_DOMAINS = [CONSTANTS.TESTNET_DOMAIN]
OTHER_DOMAINS_PARAMETER = {CONSTANTS.TESTNET_DOMAIN: CONSTANTS.TESTNET_DOMAIN}
OTHER_DOMAINS_EXAMPLE_PAIR = {CONSTANTS.TESTNET_DOMAIN: EXAMPLE_PAIR}
OTHER_DOMAINS_DEFAULT_FEES = {CONSTANTS.TESTNET_DOMAIN: DEFAULT_FEES}


class ExtendedPerpetualTestnetConfigMap(_ExtendedConfigMapBase):
    connector: str = CONSTANTS.TESTNET_DOMAIN
    extended_perpetual_testnet_api_secret: SecretStr = _api_key_field(CONSTANTS.TESTNET_DOMAIN, "Extended testnet")
    extended_perpetual_testnet_stark_private_key: SecretStr = _field("Extended testnet", "Stark private key",
                                                                     secure=True)
    extended_perpetual_testnet_stark_public_key: str = _field("Extended testnet", "Stark public key")
    extended_perpetual_testnet_vault: int = _field("Extended testnet", "vault number (collateral position id)")
    extended_perpetual_testnet_dead_man_switch_seconds: int = _dead_man_switch_field("Extended testnet")
    extended_perpetual_testnet_max_order_age_seconds: float = _max_order_age_field()
    model_config = ConfigDict(title=CONSTANTS.TESTNET_DOMAIN)


OTHER_DOMAINS_KEYS = {CONSTANTS.TESTNET_DOMAIN: ExtendedPerpetualTestnetConfigMap.model_construct()}
