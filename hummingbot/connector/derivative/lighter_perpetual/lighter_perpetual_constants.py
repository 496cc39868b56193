from decimal import Decimal

from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.data_type.in_flight_order import OrderState

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
# The signer binds signatures to a chain; the SDK would otherwise guess it from the URL (and a relay URL guesses wrong).
CHAIN_IDS = {DEFAULT_DOMAIN: 304, TESTNET_DOMAIN: 300}
# Let users (and the local emulator) point the connector at another host; logged once when used.
REST_URL_ENV_VAR = "LIGHTER_PERPETUAL_REST_URL"
WSS_URL_ENV_VAR = "LIGHTER_PERPETUAL_WS_URL"

QUOTE_TOKEN = "USDC"
COLLATERAL_TOKEN = "USDC"
USDC_ASSET_ID = 3

# Lighter API private keys are 40-byte scalars; indexes 0 and 1 belong to the web and mobile apps, 255 means "all".
API_PRIVATE_KEY_HEX_LENGTH = 80
MAX_API_KEY_INDEX = 254
ACCOUNT_TIERS = ("Standard", "Premium", "Plus", "Builder")

API_VERSION = "/api/v1"
ORDER_BOOK_DETAILS_PATH = "/orderBookDetails"
ORDER_BOOKS_PATH = "/orderBooks"
ORDER_BOOK_ORDERS_PATH = "/orderBookOrders"
ACCOUNT_PATH = "/account"
ACCOUNTS_BY_L1_ADDRESS_PATH = "/accountsByL1Address"
ACTIVE_ORDERS_PATH = "/accountActiveOrders"
INACTIVE_ORDERS_PATH = "/accountInactiveOrders"
ACCOUNT_TRADES_PATH = "/trades"
RECENT_TRADES_PATH = "/recentTrades"
NEXT_NONCE_PATH = "/nextNonce"
SEND_TX_PATH = "/sendTx"
SEND_TX_BATCH_PATH = "/sendTxBatch"
FUNDING_RATES_PATH = "/funding-rates"
POSITION_FUNDING_PATH = "/positionFunding"
EXCHANGE_STATS_PATH = "/exchangeStats"
# Look-ups of inactive orders and of the account's trades read pages of at most 100 (more is refused: 20001) through
# next_cursor, back to shortly before what they look for, and never more than this many pages at a time.
LOOKUP_PAGE_SIZE = 100
MAX_LOOKUP_PAGES = 50
# How far before its target a look-up reads: clock skew between this host and the exchange, and the delay before the
# exchange's REST index lists a trade or an order.
LOOKUP_OVERLAP_SECONDS = 120

# Transaction types and order enums of lighter-go (the signer's wire values).
TX_TYPE_CREATE_ORDER = 14
TX_TYPE_CANCEL_ORDER = 15
TX_TYPE_CANCEL_ALL_ORDERS = 16
TX_TYPE_UPDATE_LEVERAGE = 20
ORDER_TYPE_LIMIT = 0
ORDER_TYPE_MARKET = 1
TIME_IN_FORCE_IOC = 0
TIME_IN_FORCE_GTT = 1
TIME_IN_FORCE_POST_ONLY = 2
CANCEL_ALL_IMMEDIATE = 0
CANCEL_ALL_SCHEDULED = 1
CANCEL_ALL_ABORT = 2
CANCEL_ALL_ON_STOP_TIMEOUT = 10
# An order still in the connector this long after it was submitted (waiting for room in the rate budget, or behind an
# earlier transaction's recovery) is failed unsent rather than sent at a stale price; a connect-file setting.
MAX_ORDER_AGE_DEFAULT_SECONDS = 5.0
MAX_ORDER_AGE_LIMIT_SECONDS = 600.0
# Dead man's switch: a scheduled cancel-all (Time: absolute unix milliseconds) that Lighter executes unless it is
# replaced. lighter-go's MinOrderCancelAllPeriod / MaxOrderCancelAllPeriod put its time 5 minutes to 15 days ahead;
# an account holds one at a time (21712 "account has a queued cancel all orders request"), so a renewal is an abort
# followed by a new schedule, sent together (one request, two nonces).
DEAD_MAN_SWITCH_DEFAULT_SECONDS = 300
DEAD_MAN_SWITCH_MIN_SECONDS = 5 * 60
DEAD_MAN_SWITCH_MAX_SECONDS = 15 * 24 * 60 * 60
# Renewed every third of the window, so two renewals can fail before the deadline comes near.
DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW = 3
# Added to the scheduled time: this host's clock may lag Lighter's, and the minimum is checked when the sequencer
# executes the transaction, not when it is signed.
DEAD_MAN_SWITCH_CLOCK_MARGIN = 15
# A renewal that failed is tried again after this many seconds.
DEAD_MAN_SWITCH_RETRY_INTERVAL = 5
DEAD_MAN_SWITCH_STOP_TIMEOUT = 10
CROSS_MARGIN_MODE = 0
# The signer's cap on ClientOrderIndex; order indexes assigned by the exchange are above it.
MAX_CLIENT_ORDER_INDEX = 2 ** 48 - 1
# Ranges of the fields a create-order transaction signs (lighter-go types/txtypes/constants.go and create_order.go).
# Price and TriggerPrice are uint32 tick counts: the SDK hands them to the signer as 32-bit C ints, so a larger count
# would silently wrap (50,000,000.00 at 2 decimals was signed as 7,050,327.04), never be refused.
MIN_PRICE_TICKS = 1
MAX_PRICE_TICKS = 2 ** 32 - 1
MIN_BASE_AMOUNT = 1
MAX_BASE_AMOUNT = 2 ** 48 - 1
MIN_CLIENT_ORDER_INDEX = 1
MAX_PERPS_MARKET_INDEX = 254
# OrderExpiry in milliseconds: -1 asks the signer for now + 28 days, 0 is "none" (IOC orders); an explicit time must lie
# 5 minutes to 30 days ahead (MinOrderExpiryPeriod, MaxOrderExpiryPeriod).
ORDER_EXPIRY_SIGNER_DEFAULT = -1
ORDER_EXPIRY_NONE = 0
MIN_ORDER_EXPIRY_PERIOD_MS = 5 * 60 * 1000
MAX_ORDER_EXPIRY_PERIOD_MS = 30 * 24 * 60 * 60 * 1000
# Lighter's fat-finger check (docs.lighter.xyz, perpetual-futures/order-types-and-matching): a sell is refused below
# max(mark price, best bid) x 0.95, a buy above min(mark price, best ask) x 1.05.
FAT_FINGER_BAND = Decimal("0.05")
# The exchange's documented batch limits disagree (15 in the SDK's asyncapi, 50 in the docs): the stricter one holds.
MAX_TX_PER_BATCH = 15
# Orders submitted together start, and orders accepted together are confirmed, this many per event-loop iteration
# (the derivative's _start_burst_slice, the transaction client's _resolve_in_slices).
ORDERS_PER_LOOP_ITERATION = 2
# Orders submitted but not started yet: far above any burst a strategy sends (the benches send 100 at once); one more
# is refused with a failure event.
MAX_ORDER_BURST = 1000
# Market orders are IOC limit orders priced this far through the best opposite price.
MARKET_ORDER_SLIPPAGE = "0.01"

# Error codes the connector acts on (the exchange answers HTTP 400 {"code", "message"}).
CODE_OK = 200
CODE_INVALID_NONCE = 21104
CODE_BATCH_NONCE_NOT_INCREASING = 21105
CODE_INVALID_PUBLIC_KEY = 21108
CODE_API_KEY_NOT_FOUND = 21109
CODE_ORDER_NOT_ACTIVE = 21715
CODE_INVALID_ORDER_INDEX = 21700
CODE_TOO_MANY_PENDING_TXS = 21506
CODE_TOO_MANY_REQUESTS = 23000  # also when the volume quota is used up
NONCE_ERROR_CODES = (CODE_INVALID_NONCE, CODE_BATCH_NONCE_NOT_INCREASING)
BUSY_CODES = (CODE_TOO_MANY_REQUESTS, CODE_TOO_MANY_PENDING_TXS)
ORDER_NOT_FOUND_CODES = (CODE_ORDER_NOT_ACTIVE, CODE_INVALID_ORDER_INDEX)
# Look-ups that must succeed (an order in doubt, the states missed while the stream was down) are made again after
# these pauses (seconds); those of an order in doubt go on at the last.
ORDER_LOOKUP_PAUSES = (1.0, 2.0, 4.0, 8.0, 15.0)
# How long after its transaction could no longer execute an order still not found is absent (inferred: REST order
# lists show an executed order within a few seconds).
ORDER_INDEX_DELAY = 5.0
KEY_ERROR_CODES = (CODE_INVALID_PUBLIC_KEY, CODE_API_KEY_NOT_FOUND)

# Order statuses (lighter-python's Order model enum).
ORDER_STATE = {
    "in-progress": OrderState.OPEN,
    "pending": OrderState.OPEN,
    "open": OrderState.OPEN,
    "filled": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "canceled-expired": OrderState.CANCELED,
    "canceled-self-trade": OrderState.CANCELED,
    "canceled-oco": OrderState.CANCELED,
    "canceled-child": OrderState.CANCELED,
    "canceled-liquidation": OrderState.CANCELED,
    "canceled-reduce-only": OrderState.CANCELED,
    "canceled-position-not-allowed": OrderState.CANCELED,
    "canceled-post-only": OrderState.FAILED,
    "canceled-margin-not-allowed": OrderState.FAILED,
    "canceled-too-much-slippage": OrderState.FAILED,
    "canceled-not-enough-liquidity": OrderState.FAILED,
    "canceled-invalid-balance": OrderState.FAILED,
}

# WebSocket channels (subscribe with "/", the server answers with ":").
WS_ORDER_BOOK_CHANNEL = "order_book"
WS_TRADE_CHANNEL = "trade"
WS_MARKET_STATS_CHANNEL = "market_stats"
WS_ACCOUNT_ORDERS_CHANNEL = "account_all_orders"
WS_ACCOUNT_TRADES_CHANNEL = "account_all_trades"
WS_ACCOUNT_POSITIONS_CHANNEL = "account_all_positions"
WS_USER_STATS_CHANNEL = "user_stats"
WS_ACCOUNT_ASSETS_CHANNEL = "account_all_assets"
WS_HEARTBEAT_INTERVAL = 30
# Transactions sent over the WebSocket (frames the exchange answers with the request's id).
WS_SEND_TX = "jsonapi/sendtx"
WS_SEND_TX_BATCH = "jsonapi/sendtxbatch"
# Auth tokens live at most 8 hours; a short life limits the damage of a leaked token.
AUTH_TOKEN_LIFETIME = 10 * 60
AUTH_TOKEN_REFRESH_MARGIN = 60

FUNDING_INTERVAL_SECONDS = 3600
# While Lighter fails the network check, a WARNING says so at once and again this often (seconds).
NETWORK_WARNING_INTERVAL = 30

# Rate limits (docs rate-limits page; see shared payloads). Every request draws from one rolling-minute pool of the
# account: Standard counts requests (60/min), Premium/Plus/Builder count endpoint weights. Transactions also draw
# from a per-tier transaction pool.
ALL_ENDPOINTS_LIMIT = "lighter_perpetual_all"
TX_LIMIT = "lighter_perpetual_tx"
ONE_MINUTE = 60
ENDPOINT_WEIGHTS = {
    SEND_TX_PATH: 6,
    SEND_TX_BATCH_PATH: 6,
    NEXT_NONCE_PATH: 6,
    INACTIVE_ORDERS_PATH: 100,
    ACCOUNT_TRADES_PATH: 600,
    RECENT_TRADES_PATH: 600,
}
DEFAULT_ENDPOINT_WEIGHT = 300
TIER_LIMITS = {
    # tier: (pool size per minute, endpoints weighted?, transactions per minute)
    "Standard": (60, False, 60),
    "Premium": (24_000, True, 4_000),
    "Plus": (120_000, True, 8_000),
    "Builder": (240_000, True, 60),
}
REST_PATHS = (
    ORDER_BOOK_DETAILS_PATH, ORDER_BOOKS_PATH, ORDER_BOOK_ORDERS_PATH, ACCOUNT_PATH, ACCOUNTS_BY_L1_ADDRESS_PATH,
    ACTIVE_ORDERS_PATH, INACTIVE_ORDERS_PATH, ACCOUNT_TRADES_PATH, RECENT_TRADES_PATH, NEXT_NONCE_PATH, SEND_TX_PATH,
    SEND_TX_BATCH_PATH, FUNDING_RATES_PATH, POSITION_FUNDING_PATH, EXCHANGE_STATS_PATH,
)
# The network check's share of the pool. Hummingbot checks a connector every 10 s (NetworkIterator's
# check_network_interval; 60 s is NetworkBase's, not a connector's), with /orderBooks, which nothing else reads. The
# check counts in the whole pool only; every other request also counts in ORDINARY_LIMIT, the pool less this share. So
# no amount of order traffic leaves the check waiting into its timeout, and the check still takes what the rest leaves
# free (a shorter check interval).
NETWORK_CHECK_PATH = ORDER_BOOKS_PATH
NETWORK_CHECKS_RESERVED_PER_MINUTE = 6
ORDINARY_LIMIT = "lighter_perpetual_ordinary"


def rate_limits(tier: str = "Standard"):
    pool, weighted, tx_per_minute = TIER_LIMITS[tier]

    def weight(path: str) -> int:
        return ENDPOINT_WEIGHTS.get(path, DEFAULT_ENDPOINT_WEIGHT) if weighted else 1

    reserved = NETWORK_CHECKS_RESERVED_PER_MINUTE * weight(NETWORK_CHECK_PATH)
    limits = [RateLimit(limit_id=ALL_ENDPOINTS_LIMIT, limit=pool, time_interval=ONE_MINUTE),
              RateLimit(limit_id=ORDINARY_LIMIT, limit=pool - reserved, time_interval=ONE_MINUTE),
              RateLimit(limit_id=TX_LIMIT, limit=tx_per_minute, time_interval=ONE_MINUTE)]
    for path in REST_PATHS:
        linked = [LinkedLimitWeightPair(ALL_ENDPOINTS_LIMIT, weight(path))]
        if path != NETWORK_CHECK_PATH:
            linked.append(LinkedLimitWeightPair(ORDINARY_LIMIT, weight(path)))
        if path in (SEND_TX_PATH, SEND_TX_BATCH_PATH):
            linked.append(LinkedLimitWeightPair(TX_LIMIT, 1))
        limits.append(RateLimit(limit_id=path, limit=pool, time_interval=ONE_MINUTE, linked_limits=linked))
    return limits
