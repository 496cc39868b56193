EXCHANGE_NAME = "lighter_perpetual"
DEFAULT_DOMAIN = EXCHANGE_NAME
TESTNET_DOMAIN = "lighter_perpetual_testnet"

REST_URLS = {
    DEFAULT_DOMAIN: "https://mainnet.zklighter.elliot.ai",
    TESTNET_DOMAIN: "https://testnet.zklighter.elliot.ai",
}
WSS_URLS = {
    DEFAULT_DOMAIN: "wss://mainnet.zklighter.elliot.ai/stream",
    TESTNET_DOMAIN: "wss://testnet.zklighter.elliot.ai/stream",
}
# Let users (and the local emulator) point the connector at another host; logged once when used.
REST_URL_ENV_VAR = "LIGHTER_PERPETUAL_REST_URL"
WSS_URL_ENV_VAR = "LIGHTER_PERPETUAL_WS_URL"

QUOTE_TOKEN = "USDC"
COLLATERAL_TOKEN = "USDC"

# Lighter API private keys are 40-byte scalars; indexes 0 and 1 belong to the web and mobile apps, 255 means "all".
API_PRIVATE_KEY_HEX_LENGTH = 80
MAX_API_KEY_INDEX = 254
ACCOUNT_TIERS = ("Standard", "Premium", "Plus", "Builder")
