import math
from decimal import Decimal

from hummingbot.core.api_throttler.data_types import LinkedLimitWeightPair, RateLimit
from hummingbot.core.data_type.in_flight_order import OrderState

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
# Order of the Stark curve: a private key must lie in [1, order).
STARK_CURVE_ORDER = 0x0800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F

API_KEY_HEADER = "X-Api-Key"
USER_AGENT = "hummingbot-extended-perpetual"
HBOT_ORDER_ID_PREFIX = "HB"
MAX_ORDER_ID_LEN = 32

# REST paths under the /api/v1 base. Paths with a {placeholder} double as throttler limit ids.
MARKETS_PATH = "/info/markets"
MARKET_STATS_PATH = "/info/markets/{market}/stats"
ORDER_BOOK_PATH = "/info/markets/{market}/orderbook"
BALANCE_PATH = "/user/balance"
POSITIONS_PATH = "/user/positions"
ORDER_BY_EXTERNAL_ID_PATH = "/user/orders/external/{external_id}"
ACCOUNT_TRADES_PATH = "/user/trades"
OPEN_ORDERS_PATH = "/user/orders"
FEES_PATH = "/user/fees"
LEVERAGE_PATH = "/user/leverage"
FUNDING_PAYMENTS_PATH = "/user/funding/history"
ORDER_PATH = "/user/order"
MASS_CANCEL_PATH = "/user/order/massCancel"
DEAD_MAN_SWITCH_PATH = "/user/deadmanswitch"
REST_PATHS = (
    MARKETS_PATH, MARKET_STATS_PATH, ORDER_BOOK_PATH, BALANCE_PATH, POSITIONS_PATH,
    ORDER_BY_EXTERNAL_ID_PATH, ACCOUNT_TRADES_PATH, OPEN_ORDERS_PATH, FEES_PATH, LEVERAGE_PATH, FUNDING_PAYMENTS_PATH,
    ORDER_PATH, MASS_CANCEL_PATH, DEAD_MAN_SWITCH_PATH,
)

# Streams: the URL selects the stream, there is no subscribe message. Without a market (the x10 SDK's
# "/orderbooks/<market?>") a public stream carries every market; "/{market}" after the path narrows it to one.
ORDER_BOOK_STREAM = "/orderbooks"
PUBLIC_TRADES_STREAM = "/publicTrades"
FUNDING_STREAM = "/funding"
MARK_PRICE_STREAM = "/prices/mark"
INDEX_PRICE_STREAM = "/prices/index"
ACCOUNT_STREAM = "/account"
# Up to this many pairs each book has a connection of its own, so a seq gap resyncs that book only; beyond, one
# all-markets connection carries every book (its seq spans all of them: a gap there resyncs every book).
MARKET_BOOK_STREAMS_MAX = 5
# Hummingbot asks for each pair's funding info in turn at start; one read of every tracked market answers them all
# when they come within this many seconds of it.
FUNDING_INFO_BATCH_REUSE_S = 5.0
# The server pings every 15 s; the client pings too so a dead connection is noticed from both sides.
WS_HEARTBEAT_INTERVAL = 15.0
# How long the tracker waits for the stream's first book before it falls back to the REST book.
STREAM_SNAPSHOT_WAIT = 10.0
STREAM_RECONNECT_DELAY = 1.0

# Rate limits: 1,000 requests per minute per IP on the standard tier (market makers: 60,000 per 5 minutes), every
# endpoint counted alike. A share of it is reserved for the requests that keep the connector alive, the network check
# and the dead man's switch renewals, so order traffic can never starve them (a starved network check makes Hummingbot
# restart the connector, a starved renewal lets Extended cancel every order); the rest is the pool of all other
# requests. Reserved a minute: NETWORK_CHECKS_RESERVED_PER_MINUTE (Hummingbot checks once a minute) plus the renewals
# of the connector's window (3 at 60 s, 18 at the shortest window allowed, 10 s).
ALL_ENDPOINTS_LIMIT = "extended_perpetual_all"
RESERVED_LIMIT = "extended_perpetual_reserved"
NETWORK_CHECK_LIMIT_ID = "extended_perpetual_network_check"
NETWORK_CHECKS_RESERVED_PER_MINUTE = 12
RATE_LIMIT_TIERS = {
    "standard": (1_000, 60),
    "market_maker": (60_000, 300),
}


def reserved_per_minute(dead_man_switch_seconds: int) -> int:
    renewals = (math.ceil(60 * DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW / dead_man_switch_seconds)
                if dead_man_switch_seconds > 0 else 0)
    return NETWORK_CHECKS_RESERVED_PER_MINUTE + renewals


def rate_limits(tier: str = "standard", dead_man_switch_seconds: int = None):
    limit, interval = RATE_LIMIT_TIERS[tier]
    seconds = DEAD_MAN_SWITCH_DEFAULT_SECONDS if dead_man_switch_seconds is None else dead_man_switch_seconds
    reserved = reserved_per_minute(seconds) * interval // 60
    pool = limit - reserved
    limits = [RateLimit(limit_id=ALL_ENDPOINTS_LIMIT, limit=pool, time_interval=interval),
              RateLimit(limit_id=RESERVED_LIMIT, limit=reserved, time_interval=interval)]
    for path in REST_PATHS:
        shared = RESERVED_LIMIT if path == DEAD_MAN_SWITCH_PATH else ALL_ENDPOINTS_LIMIT
        limits.append(RateLimit(limit_id=path, limit=pool, time_interval=interval,
                                linked_limits=[LinkedLimitWeightPair(shared, 1)]))
    limits.append(RateLimit(limit_id=NETWORK_CHECK_LIMIT_ID, limit=reserved, time_interval=interval,
                            linked_limits=[LinkedLimitWeightPair(RESERVED_LIMIT, 1)]))
    return limits


# Order settings. GTT orders must expire within 90 days on mainnet and 28 days on testnet; Hummingbot orders have
# no expiry of their own, so they get the longest life allowed, less a day of margin.
ORDER_LIFETIME_DAYS = {DEFAULT_DOMAIN: 89, TESTNET_DOMAIN: 27}
# MARKET orders are IOC limit orders priced this far through the best opposite price (the x10 SDK's default),
# never past the market's limit price cap/floor around the mark price.
MARKET_ORDER_SLIPPAGE = Decimal("0.0075")
# The Stark order hash signs the synthetic and collateral amounts as signed 64-bit integers.
MAX_STARK_AMOUNT = 2 ** 63 - 1
# While Extended fails the network check, a WARNING says so at once and again this often (seconds).
NETWORK_WARNING_INTERVAL = 30
# The SDK's default max fee when the account's rates are not known yet.
DEFAULT_TAKER_FEE = Decimal("0.0005")
FUNDING_INTERVAL_SECONDS = 3600
TRADES_PAGE_SIZE = 100
# A fill recovery reads pages back to the last fill seen; this many pages (5,000 fills) at most in one read.
TRADES_MAX_PAGES = 50
# Fills come from the account stream. REST reads them back (one paginated GET /user/trades for the account) only
# after a gap: from the last fill seen, less this margin for fills stamped slightly out of order (milliseconds).
FILL_RECOVERY_MARGIN_MS = 10_000
# A stream update showing more filled than the fills received is a gap once the fills are this late (seconds).
FILL_LAG_GRACE = 2.0
# With more orders than this to poll, their states come from one read of the open orders (GET /user/orders) and
# only the orders missing from it are looked up one by one.
GROUPED_STATUS_MIN_ORDERS = 3

# Market statuses (x10 examples' markets schema). Listed markets can be tracked; only tradable ones take new
# positions, REDUCE_ONLY ones take orders that close.
MARKET_STATUSES = ("ACTIVE", "REDUCE_ONLY", "DELISTED", "PRELISTED", "DISABLED")
LISTED_MARKET_STATUSES = ("ACTIVE", "REDUCE_ONLY", "PRELISTED")
OPENING_MARKET_STATUSES = ("ACTIVE", "PRELISTED")
REDUCE_ONLY_MARKET_STATUS = "REDUCE_ONLY"
PERPETUAL_MARKET_TYPE = "PERPETUAL"
MARKET_TYPES = (PERPETUAL_MARKET_TYPE, "SPOT")
# A market every domain lists, asked for by the network check (the full market list is large).
NETWORK_CHECK_MARKET = "BTC-USD"

# Order statuses (x10 OrderStatus + TRIGGERED, which ccxt reads as open). REJECTED orders never rested.
ORDER_STATE = {
    "NEW": OrderState.OPEN,
    "UNTRIGGERED": OrderState.OPEN,
    "TRIGGERED": OrderState.OPEN,
    "PARTIALLY_FILLED": OrderState.PARTIALLY_FILLED,
    "FILLED": OrderState.FILLED,
    "CANCELLED": OrderState.CANCELED,
    "EXPIRED": OrderState.CANCELED,
    "REJECTED": OrderState.FAILED,
}
# Reasons that make an unfilled cancelled order a failed one: it was refused rather than withdrawn.
FAILURE_STATUS_REASONS = ("POST_ONLY_FAILED", "NOT_ENOUGH_FUNDS", "INVALID_QTY", "INVALID_PRICE", "INVALID_VALUE",
                          "INVALID_FEE", "INVALID_LEVERAGE", "INVALID_EXPIRE_TIME", "UNKNOWN_MARKET",
                          "DISABLED_MARKET", "REDUCE_ONLY_FAILED", "POST_ONLY_MODE", "REDUCE_ONLY_MODE",
                          "TRADING_OFF_MODE", "UNKNOWN_ACCOUNT")
POST_ONLY_FAILED = "POST_ONLY_FAILED"

# Account stream message types.
STREAM_ORDER = "ORDER"
STREAM_TRADE = "TRADE"
STREAM_BALANCE = "BALANCE"
STREAM_POSITION = "POSITION"
STREAM_SNAPSHOT = "SNAPSHOT"
STREAM_DELTA = "DELTA"
STREAM_MARK_PRICE = "MP"
STREAM_INDEX_PRICE = "IP"

# HTTP statuses with a meaning of their own: 401 bad API key, 404 "not found" (and a zero balance), 5xx a server
# error after which a request may or may not have been executed.
HTTP_UNAUTHORIZED = 401
HTTP_NOT_FOUND = 404
HTTP_SERVER_ERROR = 500
# Error envelopes carry numeric codes (1140) and, on some answers, words: this one means "no such record".
NOT_FOUND_ERROR_CODE = "NOT_FOUND"

# Dead man's switch (POST /user/deadmanswitch?countdownTime=<seconds>, docs "Mass auto-cancel"): unless the countdown
# is sent again before it runs out, Extended cancels every open order of the account; 0 removes the countdown. The docs
# set no bounds beyond "non-negative"; the connector's own: at least 10 s (renewals every 3.3 s, 18 requests a minute),
# at most a day.
DEAD_MAN_SWITCH_DEFAULT_SECONDS = 60
DEAD_MAN_SWITCH_MIN_SECONDS = 10
DEAD_MAN_SWITCH_MAX_SECONDS = 86_400
# Renewed three times per window, so one lost or slow renewal never lets the countdown run out.
DEAD_MAN_SWITCH_RENEWALS_PER_WINDOW = 3
# How often the renewal task looks whether the connector is ready, before it arms the switch.
DEAD_MAN_SWITCH_READY_POLL = 0.5

# An order still waiting for room in the rate budget this long after the strategy placed it is failed unsent rather
# than sent at a stale price; a setting of the connector's file, not asked at connect.
MAX_ORDER_AGE_DEFAULT_SECONDS = 5.0
MAX_ORDER_AGE_LIMIT_SECONDS = 600.0

# The default window's limits (the connector builds its own from its window).
RATE_LIMITS = rate_limits()

# Look-ups of an order whose POST got no answer: first after this delay, then doubling up to the maximum.
PLACEMENT_LOOKUP_FIRST_DELAY = 0.5
PLACEMENT_LOOKUP_MAX_DELAY = 8.0
# A look-up is never put off past the end of the absence grace (extended_perpetual_placements) by more than this; the
# second 404 that proves absence is asked for this long after the first.
PLACEMENT_GRACE_MARGIN = 0.05
PLACEMENT_CONFIRM_DELAY = 1.0
