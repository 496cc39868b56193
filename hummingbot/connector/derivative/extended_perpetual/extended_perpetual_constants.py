EXCHANGE_NAME = "extended_perpetual"
DEFAULT_DOMAIN = EXCHANGE_NAME
TESTNET_DOMAIN = "extended_perpetual_testnet"

# Same hosts as the x10 SDK's MAINNET_CONFIG / TESTNET_CONFIG.
REST_URLS = {
    DEFAULT_DOMAIN: "https://api.starknet.extended.exchange/api/v1",
    TESTNET_DOMAIN: "https://api.starknet.sepolia.extended.exchange/api/v1",
}
WSS_URLS = {
    DEFAULT_DOMAIN: "wss://api.starknet.extended.exchange/stream.extended.exchange/v1",
    TESTNET_DOMAIN: "wss://api.starknet.sepolia.extended.exchange/stream.extended.exchange/v1",
}
REST_URL_ENV_VAR = "EXTENDED_PERPETUAL_REST_URL"
WSS_URL_ENV_VAR = "EXTENDED_PERPETUAL_WS_URL"

# Extended names its collateral asset "USD" (markets are "BTC-USD").
QUOTE_TOKEN = "USD"
COLLATERAL_TOKEN = "USD"

# Stark keys are field elements: at most 252 bits, written as 0x-prefixed hex.
STARK_KEY_MAX_HEX_DIGITS = 64
