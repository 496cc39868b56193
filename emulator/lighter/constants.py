"""Wire constants of the Lighter API: tx types, enums and the venue's result codes and messages."""

TX_TYPE_CREATE_ORDER = 14
TX_TYPE_CANCEL_ORDER = 15
TX_TYPE_CANCEL_ALL_ORDERS = 16
TX_TYPE_MODIFY_ORDER = 17
TX_TYPE_UPDATE_LEVERAGE = 20

ORDER_TYPE_LIMIT = 0
ORDER_TYPE_MARKET = 1
ORDER_TYPE_NAMES = {
    0: "limit",
    1: "market",
    2: "stop-loss",
    3: "stop-loss-limit",
    4: "take-profit",
    5: "take-profit-limit",
    6: "twap",
}

TIF_IOC = 0
TIF_GTT = 1
TIF_POST_ONLY = 2
TIF_NAMES = {TIF_IOC: "immediate-or-cancel", TIF_GTT: "good-till-time", TIF_POST_ONLY: "post-only"}

CANCEL_ALL_IMMEDIATE = 0
CANCEL_ALL_SCHEDULED = 1
CANCEL_ALL_ABORT = 2
# A scheduled cancel-all's Time (unix ms) lies this far ahead (lighter-go types/txtypes/constants.go:
# MinOrderCancelAllPeriod, MaxOrderCancelAllPeriod); checked against the exchange's clock when it executes.
MIN_ORDER_CANCEL_ALL_PERIOD_MS = 5 * 60 * 1000
MAX_ORDER_CANCEL_ALL_PERIOD_MS = 15 * 24 * 60 * 60 * 1000

# L2TxAttributes keys (lighter-go types/txtypes/tx_attributes.go)
ATTR_SKIP_NONCE = "4"
ATTR_CANCEL_ALL_MARKET_INDEX = "5"

STATUS_OPEN = "open"
STATUS_FILLED = "filled"
STATUS_CANCELED = "canceled"
STATUS_CANCELED_POST_ONLY = "canceled-post-only"
STATUS_CANCELED_REDUCE_ONLY = "canceled-reduce-only"
STATUS_CANCELED_SELF_TRADE = "canceled-self-trade"
STATUS_CANCELED_EXPIRED = "canceled-expired"
STATUS_CANCELED_SLIPPAGE = "canceled-too-much-slippage"
STATUS_CANCELED_NO_LIQUIDITY = "canceled-not-enough-liquidity"

TWO_POW_47 = 1 << 47
TWO_POW_48 = 1 << 48
MAX_CLIENT_ORDER_INDEX = TWO_POW_48 - 1
MAX_BASE_AMOUNT = TWO_POW_48 - 1
MAX_PRICE = (1 << 32) - 1
MAX_API_KEY_INDEX = 254
NIL_MARKET_INDEX = 255
NIL_API_KEY_INDEX = 255
MARGIN_FRACTION_TICK = 10_000
FEE_TICK = 1_000_000
MAX_ORDER_EXPIRY_PERIOD_MS = 30 * 24 * 60 * 60 * 1000
# Fat-finger band of limit orders around min/max(mark price, best opposite price), in percent (docs.lighter.xyz).
FAT_FINGER_BAND_PERCENT = 5
SIG_BYTES = 80
USDC_ASSET_ID = 3
INSURANCE_FUND_ACCOUNT_INDEX = 281474976710655
MAX_SEND_TX_BATCH = 15
VOLUME_QUOTA = 1_000_000

OK_CODE = 200
RATE_LIMIT_MESSAGE = "{\"ratelimit\": \"didn't use volume quota\"}"

# (code, message) pairs as the venue returns them in {"code": ..., "message": ...}
INVALID_PARAM = (20001, "invalid param ")  # the venue writes "invalid param : <detail>"
ACCOUNT_NOT_FOUND = (21100, "account not found")
INVALID_AUTH = 20013
INVALID_NONCE = (21104, "invalid nonce")
BATCH_NONCE_NOT_INCREASING = (21105, "batch transaction nonce is not increasing")
API_KEY_NOT_FOUND = (21109, "api key not found")
INVALID_TX_INFO = (21501, "invalid tx info")
UNSUPPORTED_TX_TYPE = (21505, "unsupported tx type")
INVALID_MARKET_INDEX = (21602, "invalid market index")
INVALID_MARGIN_MODE = (21613, "invalid margin mode")
INVALID_BASE_AMOUNT = (21701, "invalid base amount")
INVALID_PRICE = (21702, "invalid price")
INVALID_IS_ASK = (21703, "invalid isAsk")
INVALID_ORDER_TYPE = (21704, "invalid OrderType")
INVALID_TIME_IN_FORCE = (21705, "invalid OrderTimeInForce")
INVALID_BASE_OR_QUOTE = (21706, "invalid order base or quote amount")
NOT_ORDER_OWNER = (21707, "account is not owner of the order")
UNSUPPORTED_ORDER_TYPE = (21710, "unsupported order type")
INVALID_EXPIRY = (21711, "invalid expiry")
CANCEL_ALL_QUEUED = (21712, "account has a queued cancel all orders request")
INVALID_CANCEL_ALL_TIF = (21713, "invalid cancel all time in force")
INVALID_CANCEL_ALL_TIME = (21714, "invalid cancel all time")
NOT_ACTIVE_ORDER = (21715, "given order is not an active order")
INVALID_CLIENT_ORDER_INDEX = (21727, "invalid client order index")
CLIENT_ORDER_INDEX_EXISTS = (21728, "client order index already exists")
INVALID_TRIGGER_PRICE = (21729, "invalid order trigger price")
NOT_ENOUGH_MARGIN = (21739, "not enough margin to create the order")
INVALID_LEVERAGE = (21604, "invalid margin fractions for market")
TOO_MANY_REQUESTS = (23000, "Too Many Requests!")
ALREADY_SUBSCRIBED = 30003
INVALID_CHANNEL = 30005
