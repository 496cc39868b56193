"""Signing and transport of Extended requests.

Orders are built and Stark-signed by the x10 SDK (`create_order_object`, fast_stark_crypto) on one worker thread, so
the event loop never signs, and are posted through Hummingbot's WebAssistant and throttler. Cancels go by the client
order id (the order's external id on Extended), so no exchange id has to be looked up first. The Stark key pair is
checked before the first signature: the public key is derived from the private key and compared. An order still
waiting for room in Hummingbot's throttler at its maximum age is not sent (ExtendedNotSentError): it never left, and
its signature (a random Stark nonce) is simply dropped.

Secrets stay here: the API key only ever travels in the X-Api-Key header (added by the auth), the Stark private key
never leaves this process, and neither appears in a log line or an exception text (texts from the SDK and the
server are scrubbed before they are passed on, and the exceptions they came from are dropped (`from None`): Hummingbot
logs failures with their traceback, which would print a chained original in full).
"""
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
from fast_stark_crypto import get_public_key
from x10.config import MAINNET_CONFIG, TESTNET_CONFIG
from x10.core.stark_account import StarkPerpetualAccount
from x10.models.market import (
    L2ConfigModel,
    MarketModel,
    MarketStatsModel,
    MarketTradingHours,
    MarketType,
    RiskFactorConfigModel,
    TradingConfigModel,
)
from x10.models.order import OrderSide, OrderType, TimeInForce
from x10.signing.order_object import create_order_object

from hummingbot.connector.derivative.extended_perpetual import (
    extended_perpetual_constants as CONSTANTS,
    extended_perpetual_parsers as parsers,
    extended_perpetual_web_utils as web_utils,
)
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest
from hummingbot.core.web_assistant.rest_assistant import RESTAssistant
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

# Signing costs ~0.5 ms; on the event loop that time would delay every other coroutine. One thread is enough and
# keeps signatures in submission order.
_SIGNER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extended-signer")

REQUEST_TIMEOUT = 10.0
STARKNET_DOMAINS = {
    CONSTANTS.DEFAULT_DOMAIN: MAINNET_CONFIG.signing.starknet_domain,
    CONSTANTS.TESTNET_DOMAIN: TESTNET_CONFIG.signing.starknet_domain,
}
_ZERO = Decimal(0)
# Signing reads only the market's assets and l2Config; the SDK model still wants statistics.
_NO_STATS = MarketStatsModel(
    daily_volume=_ZERO, daily_volume_base=_ZERO, daily_price_change=_ZERO, daily_low=_ZERO, daily_high=_ZERO,
    last_price=_ZERO, ask_price=_ZERO, bid_price=_ZERO, mark_price=_ZERO, index_price=_ZERO, funding_rate=_ZERO,
    next_funding_rate=0, open_interest=_ZERO, open_interest_base=_ZERO)

# As RESTAssistant.execute_request_and_get_response sets it.
_CONTENT_TYPES = {RESTMethod.GET: "application/x-www-form-urlencoded"}

UNAUTHORIZED_MESSAGE = ("Extended refused the API key (HTTP 401): check that it was copied completely and that it "
                        "is still active on Extended's API management page.")


class ExtendedApiError(IOError):
    """Extended refused a request, or gave no usable answer. `code` is Extended's error code where there is one: a
    number (1140) or a word ("NOT_FOUND")."""

    def __init__(self, message: str, code: Optional[parsers.ErrorCode] = None, http_status: Optional[int] = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    @property
    def outcome_unknown(self) -> bool:
        """No answer at all (timeout, connection error) or a server error: Extended may still have executed it."""
        return self.http_status is None or self.http_status >= CONSTANTS.HTTP_SERVER_ERROR


class ExtendedKeyError(ExtendedApiError):
    """The credentials cannot be used: a malformed or mismatched Stark key, or an API key Extended refuses."""


class ExtendedNotFoundError(ExtendedApiError):
    """HTTP 404 or error code NOT_FOUND: no such order (and, on /user/balance, no collateral yet)."""


class ExtendedOutcomeUnknownError(ExtendedApiError):
    """An order POST got no answer, or a server error: the order may or may not have been placed."""


class ExtendedNotSentError(ExtendedApiError):
    """The request never left: it was still waiting for room in the rate budget at its deadline."""

    @property
    def outcome_unknown(self) -> bool:
        return False


@dataclass(frozen=True)
class MaxAge:
    """An order still waiting for room in the rate budget `seconds` after `since` (time.monotonic()) is not sent."""
    since: float
    seconds: float

    def not_sent(self) -> ExtendedNotSentError:
        return ExtendedNotSentError(
            f"Not sent (rate limit): the order was still waiting for room in the rate budget "
            f"{time.monotonic() - self.since:.1f} s after it was placed, its maximum age (max_order_age_seconds "
            f"{self.seconds:g}).")


@dataclass(frozen=True)
class OrderRequest:
    market: str
    is_buy: bool
    amount: Decimal
    price: Decimal
    is_market: bool
    post_only: bool
    reduce_only: bool
    external_id: str
    max_fee: Decimal


def _parse_hex_key(value: str) -> Optional[int]:
    text = (value or "").strip()
    if not text.lower().startswith("0x") or not 2 < len(text) <= 2 + CONSTANTS.STARK_KEY_MAX_HEX_DIGITS:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


class ExtendedTransactionClient:
    def __init__(self, api_factory: WebAssistantsFactory, api_key: str, stark_private_key: str,
                 stark_public_key: str, vault: Any, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        self._api_factory = api_factory
        self._api_key = api_key or ""
        self._private_key = stark_private_key or ""
        self._public_key = stark_public_key or ""
        self._vault = vault
        self._domain = domain
        self._starknet_domain = STARKNET_DOMAINS[domain]
        self._account: Optional[StarkPerpetualAccount] = None
        self._markets: Dict[str, MarketModel] = {}
        self._secrets = self._secret_forms()

    # ----- secrets -----

    def _secret_forms(self) -> List[str]:
        forms = {self._api_key, self._private_key, self._private_key.lower(), self._private_key[2:],
                 self._private_key[2:].lower()}
        key = _parse_hex_key(self._private_key)
        if key is not None:
            forms.update({hex(key), hex(key)[2:], str(key)})
        # Short fragments would blank out ordinary text; real keys are far longer.
        return sorted((form for form in forms if len(form) >= 8), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # ----- credentials -----

    @property
    def vault(self) -> int:
        return int(str(self._vault).strip())

    def check_credentials(self):
        """Raises ExtendedKeyError with one sentence when the keys cannot sign; builds the SDK account once."""
        if self._account is not None:
            return
        if not self._api_key.strip():
            raise ExtendedKeyError("The Extended API key is empty: enter the key shown on Extended's API management "
                                   "page.")
        private_key = _parse_hex_key(self._private_key)
        if private_key is None or not 0 < private_key < CONSTANTS.STARK_CURVE_ORDER:
            raise ExtendedKeyError("The Stark private key is not a valid key: it must be 0x followed by up to 64 "
                                   "hexadecimal characters, as shown on Extended's API management page.")
        public_key = _parse_hex_key(self._public_key)
        if public_key is None:
            raise ExtendedKeyError("The Stark public key is not a valid key: it must be 0x followed by up to 64 "
                                   "hexadecimal characters, as shown on Extended's API management page.")
        try:
            vault = self.vault
        except ValueError:
            vault = 0
        if vault <= 0:
            raise ExtendedKeyError("The vault number must be a positive whole number (Extended shows it with the "
                                   "API key).")
        if get_public_key(private_key) != public_key:
            raise ExtendedKeyError("The Stark public key does not belong to the Stark private key: copy both keys "
                                   "from the same API key on Extended.")
        self._account = StarkPerpetualAccount(vault=vault, private_key=hex(private_key), public_key=hex(public_key),
                                              api_key=self._api_key)

    # ----- markets -----

    def register_market(self, spec: parsers.MarketSpec):
        """The SDK's MarketModel for signing, built from the /info/markets entry."""
        self._markets[spec.name] = MarketModel(
            name=spec.name,
            type=MarketType.PERPETUAL,
            asset_name=spec.base,
            asset_precision=spec.asset_precision,
            collateral_asset_name=spec.quote,
            collateral_asset_precision=spec.collateral_asset_precision,
            active=True,
            is_rfq=False,
            is_off_hours=False,
            trading_hours=MarketTradingHours.CONTINUOUS,
            market_stats=_NO_STATS,
            trading_config=TradingConfigModel(
                min_order_size=spec.min_order_size,
                min_order_size_change=spec.min_order_size_change,
                min_price_change=spec.min_price_change,
                max_market_order_value=spec.max_market_order_value,
                max_limit_order_value=spec.max_limit_order_value,
                max_position_value=spec.max_position_value,
                max_leverage=spec.max_leverage,
                max_num_orders=spec.max_num_orders,
                limit_price_cap=spec.limit_price_cap,
                limit_price_floor=spec.limit_price_floor,
                risk_factor_config=[RiskFactorConfigModel(upper_bound=upper, risk_factor=factor)
                                    for upper, factor in spec.risk_factors],
            ),
            l2_config=L2ConfigModel(
                type=spec.l2_type,
                collateral_id=spec.collateral_id,
                collateral_resolution=spec.collateral_resolution,
                synthetic_id=spec.synthetic_id,
                synthetic_resolution=spec.synthetic_resolution,
            ),
        )

    # ----- transport -----

    async def call(self, method: RESTMethod, path: str, limit_id: Optional[str] = None,
                   params: Optional[Dict[str, Any]] = None, data: Optional[Dict[str, Any]] = None,
                   is_auth_required: bool = True, timeout: Optional[float] = None,
                   max_age: Optional[MaxAge] = None) -> Dict[str, Any]:
        """The whole answer envelope; raises ExtendedApiError (or a subclass) when Extended reports an error. Without
        `timeout`, REQUEST_TIMEOUT applies. With `max_age`, a request still waiting for room in the rate budget then
        is not sent (ExtendedNotSentError)."""
        timeout = timeout or REQUEST_TIMEOUT
        rest = await self._api_factory.get_rest_assistant()
        url, limit_id = web_utils.private_rest_url(path, self._domain), limit_id or path
        try:
            if max_age is None:
                response = await rest.execute_request_and_get_response(
                    url=url, throttler_limit_id=limit_id, params=params, data=data, method=method,
                    is_auth_required=is_auth_required, return_err=True, timeout=timeout)
            else:
                response = await self._call_within_age(rest, max_age, RESTRequest(
                    method=method, url=url, params=params, data=json.dumps(data) if data is not None else None,
                    headers={"Content-Type": _CONTENT_TYPES.get(method, "application/json")},
                    is_auth_required=is_auth_required, throttler_limit_id=limit_id), timeout)
            status = response.status
            text = await response.text()
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            raise ExtendedApiError(f"No answer from Extended within {timeout:.3g} s ({method.value} {path}).") from None
        except ExtendedApiError:
            raise
        except aiohttp.ClientConnectionError as e:
            raise ExtendedApiError(f"Cannot reach Extended at {web_utils.rest_base_url(self._domain)}: "
                                   f"{e.__class__.__name__}.") from None
        except Exception as e:
            raise ExtendedApiError(f"Request to Extended failed ({method.value} {path}): "
                                   f"{self.scrub(f'{e.__class__.__name__}: {e}')}") from None
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {}
        if status == CONSTANTS.HTTP_UNAUTHORIZED:
            raise ExtendedKeyError(UNAUTHORIZED_MESSAGE, http_status=status)
        error = parsers.envelope_error(body)
        if status >= 400 or error is not None:
            code, message = error or (None, "")
            detail = self.scrub(message or text[:200] or "no details")
            not_found = status == CONSTANTS.HTTP_NOT_FOUND or code == CONSTANTS.NOT_FOUND_ERROR_CODE
            error_class = ExtendedNotFoundError if not_found else ExtendedApiError
            raise error_class(f"Extended refused {method.value} {path} (HTTP {status}"
                              f"{f', error {code}' if code is not None else ''}): {detail}",
                              code=code, http_status=status)
        return body if isinstance(body, dict) else {}

    async def _call_within_age(self, rest: RESTAssistant, max_age: MaxAge, request: RESTRequest, timeout: float):
        """What execute_request_and_get_response does, with the throttler's wait bounded by `max_age`. The throttler
        records a request in the same step in which it finds room, and the timeout can only interrupt a wait: so the
        request is either counted and sent, or neither. One that finds room at once goes even past its age (the age
        bounds the wait for the budget only)."""
        room = self._api_factory.throttler.execute_task(limit_id=request.throttler_limit_id)
        try:
            async with asyncio.timeout(max_age.since + max_age.seconds - time.monotonic()):
                await room.acquire()
        except TimeoutError:
            raise max_age.not_sent() from None
        return await rest.call(request=request, timeout=timeout)

    async def request(self, method: RESTMethod, path: str, limit_id: Optional[str] = None,
                      params: Optional[Dict[str, Any]] = None, data: Optional[Dict[str, Any]] = None,
                      is_auth_required: bool = True, max_age: Optional[MaxAge] = None) -> Any:
        """The `data` of the answer envelope."""
        body = await self.call(method, path, limit_id=limit_id, params=params, data=data,
                               is_auth_required=is_auth_required, max_age=max_age)
        return body.get("data")

    # ----- orders -----

    def order_expiry(self) -> datetime:
        # Whole seconds: the signed settlement expiry is in seconds, the wire expiry in milliseconds.
        lifetime = CONSTANTS.ORDER_LIFETIME_DAYS[self._domain] * 86_400
        return datetime.fromtimestamp(int(time.time()) + lifetime, tz=timezone.utc)

    def sign_order(self, order: OrderRequest) -> Dict[str, Any]:
        """The POST /user/order body, built and Stark-signed by the x10 SDK. Blocking: call it on the signer thread."""
        self.check_credentials()
        market = self._markets.get(order.market)
        if market is None:
            raise ExtendedApiError(f"Market {order.market} is not known yet: its trading rules have not been loaded.")
        try:
            signed = create_order_object(
                account=self._account,
                market=market,
                amount_of_synthetic=order.amount,
                price=order.price,
                side=OrderSide.BUY if order.is_buy else OrderSide.SELL,
                starknet_domain=self._starknet_domain,
                order_type=OrderType.MARKET if order.is_market else OrderType.LIMIT,
                post_only=order.post_only,
                expire_time=self.order_expiry(),
                order_external_id=order.external_id,
                time_in_force=TimeInForce.IOC if order.is_market else TimeInForce.GTT,
                taker_fee=order.max_fee,
                reduce_only=order.reduce_only,
            )
        except Exception as e:
            raise ExtendedApiError(f"The order could not be signed: {self.scrub(str(e))}") from None
        return signed.to_api_request_json(exclude_none=True)

    async def place_order(self, order: OrderRequest, max_age: Optional[MaxAge] = None) -> str:
        """Signs on the worker thread, posts, and returns Extended's order id. Raises ExtendedOutcomeUnknownError when
        the POST got no answer or a server error (the order may still be placed), ExtendedNotSentError when it never
        left (see `call`), ExtendedApiError when refused."""
        self.check_credentials()
        body = await asyncio.get_running_loop().run_in_executor(_SIGNER_THREAD, self.sign_order, order)
        try:
            placed = await self.request(RESTMethod.POST, CONSTANTS.ORDER_PATH, data=body, max_age=max_age)
        except ExtendedApiError as error:
            if error.outcome_unknown:
                raise ExtendedOutcomeUnknownError(str(error), code=error.code, http_status=error.http_status) from None
            raise
        return str(int(placed["id"]))

    async def orders_by_external_id(self, external_id: str) -> List[Dict[str, Any]]:
        """The order(s) with this external id; raises ExtendedNotFoundError when Extended has none."""
        rows = await self.request(RESTMethod.GET, CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH.format(external_id=external_id),
                                  limit_id=CONSTANTS.ORDER_BY_EXTERNAL_ID_PATH)
        return [row for row in rows or [] if isinstance(row, dict)]

    async def cancel_order(self, external_id: str):
        await self.call(RESTMethod.DELETE, CONSTANTS.ORDER_PATH, params={"externalId": external_id})

    async def mass_cancel(self, external_ids: Optional[List[str]] = None, markets: Optional[List[str]] = None,
                          cancel_all: bool = False):
        body: Dict[str, Any] = {}
        if external_ids:
            body["externalOrderIds"] = list(external_ids)
        if markets:
            body["markets"] = list(markets)
        if cancel_all:
            body["cancelAll"] = True
        await self.call(RESTMethod.POST, CONSTANTS.MASS_CANCEL_PATH, data=body)

    async def set_dead_man_switch(self, seconds: int, timeout: Optional[float] = None):
        """Arms (or renews) Extended's countdown to cancel every open order of the account; 0 disarms it. Extended
        answers with an empty body (ccxt) or {"status": "OK"} (docs)."""
        await self.call(RESTMethod.POST, CONSTANTS.DEAD_MAN_SWITCH_PATH, params={"countdownTime": seconds},
                        timeout=timeout)

    async def update_leverage(self, market: str, leverage: Decimal):
        await self.call(RESTMethod.PATCH, CONSTANTS.LEVERAGE_PATH, data={"market": market, "leverage": str(leverage)})

    async def account_trades(self, since_ms: int, market: Optional[str] = None) -> Tuple[List[Dict[str, Any]], bool]:
        """The account's fills (in `market`, or in every market) from `since_ms` on, newest first, following the
        pagination cursor; and whether they reach back to `since_ms` (False when TRADES_MAX_PAGES ran out first)."""
        trades: List[Dict[str, Any]] = []
        cursor: Optional[int] = None
        for _ in range(CONSTANTS.TRADES_MAX_PAGES):
            params: Dict[str, Any] = {"limit": CONSTANTS.TRADES_PAGE_SIZE}
            if market is not None:
                params["market"] = market
            if cursor is not None:
                params["cursor"] = cursor
            body = await self.call(RESTMethod.GET, CONSTANTS.ACCOUNT_TRADES_PATH, params=params)
            page = [row for row in body.get("data") or [] if isinstance(row, dict)]
            trades.extend(page)
            cursor, more = _next_cursor(body, len(page))
            if not more or any(int(row.get("createdTime") or 0) < since_ms for row in page):
                return trades, True
        return trades, False

    async def open_orders(self) -> List[Dict[str, Any]]:
        """Every open order of the account, in every market (Extended answers them in one page)."""
        rows = await self.request(RESTMethod.GET, CONSTANTS.OPEN_ORDERS_PATH)
        return [row for row in rows or [] if isinstance(row, dict)]


def _next_cursor(body: Dict[str, Any], page_size: int) -> Tuple[Optional[int], bool]:
    pagination = body.get("pagination") or {}
    cursor = pagination.get("cursor")
    return cursor, cursor is not None and page_size >= CONSTANTS.TRADES_PAGE_SIZE
