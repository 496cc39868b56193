"""Signing, nonces and transport of Lighter transactions.

The official signer (lighter-sdk's Go library) signs every transaction on one worker thread, always with an explicit
nonce and API key index (with nonce -1 the Go library would block on its own HTTP call). Nonces come from the SDK's
OptimisticNonceManager, seeded and resynchronised from /nextNonce through Hummingbot's WebAssistant and throttler.

Transactions that are ready at the same moment leave together: one dispatcher per API key drains everything queued,
signs it in one hop to the worker thread and sends it as one sendTx or sendTxBatch. Only one request per key is in
flight, so nonces reach the sequencer in order; after any failed send the nonce is re-read from the exchange, which
also tells whether a timed-out transaction was consumed.
"""
import asyncio
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.logger import HummingbotLogger

# Signing on the event loop costs ~6 ms per transaction (cgo re-reads /proc/self/maps on the main thread); on a
# worker thread ~0.7 ms. A second thread gives no speed-up, and one thread keeps the Go library's state serial.
_SIGNER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lighter-signer")

SEND_TIMEOUT = 10.0
_KEY_SHAPE = re.compile(rf"(0x)?[0-9a-fA-F]{{{CONSTANTS.API_PRIVATE_KEY_HEX_LENGTH}}}")
_BAD_KEY_MESSAGE = ("The Lighter API private key is not a valid key; copy it again from the API key you created on "
                    "Lighter.")


class LighterTransactionError(Exception):
    """The exchange (or the signer) refused a transaction. `code` is Lighter's result code where there is one."""

    def __init__(self, message: str, code: Optional[int] = None):
        super().__init__(message)
        self.code = code


class LighterKeyError(LighterTransactionError):
    """The API key cannot be used: malformed, or not registered for the account."""


# A signing call receives the SDK's SignerClient, the nonce and the API key index and returns the SDK's 4-tuple
# (tx_type, tx_info, tx_hash, error).
SignCall = Callable[[Any, int, int], Tuple[Optional[int], Optional[str], Optional[str], Optional[str]]]


@dataclass
class _PendingTx:
    sign: SignCall
    future: asyncio.Future
    nonce: int = -1
    tx_type: int = 0
    tx_info: str = ""
    tx_hash: str = ""


class LighterTransactionClient:
    _logger: Optional[HummingbotLogger] = None

    @classmethod
    def logger(cls) -> HummingbotLogger:
        if cls._logger is None:
            cls._logger = logging.getLogger(__name__)
        return cls._logger

    def __init__(self, api_factory: WebAssistantsFactory, account_index: int, api_key_index: int,
                 api_private_key: str, domain: str = CONSTANTS.DEFAULT_DOMAIN):
        self._api_factory = api_factory
        self._account_index = account_index
        self._api_key_index = api_key_index
        self._private_key = api_private_key
        self._domain = domain
        self._signer = None
        self._nonce_manager = None
        self._nonce_stale = True
        self._queue: asyncio.Queue = asyncio.Queue()
        self._dispatcher: Optional[asyncio.Task] = None
        self._auth_token: Optional[str] = None
        self._auth_token_deadline = 0.0
        self._auth_lock = asyncio.Lock()
        self._signer_lock = asyncio.Lock()
        self._ready = asyncio.Event()

    @property
    def account_index(self) -> int:
        return self._account_index

    @property
    def api_key_index(self) -> int:
        return self._api_key_index

    def _scrub(self, text: str) -> str:
        key = self._private_key.removeprefix("0x")
        return text.replace(key, "***") if key else text

    async def _ensure_signer(self):
        """Builds the SDK's SignerClient. It opens an HTTP client of its own, which is closed at once: this connector
        sends everything through Hummingbot's WebAssistant."""
        async with self._signer_lock:
            if self._signer is None:
                await self._build_signer()
        return self._signer

    async def _build_signer(self):
        import lighter
        from lighter import nonce_manager

        # The SDK opens an HTTP session before it looks at the key; a key of the wrong shape is refused first.
        if not _KEY_SHAPE.fullmatch(self._private_key.strip()):
            raise LighterKeyError(_BAD_KEY_MESSAGE)
        try:
            self._signer = lighter.SignerClient(
                url=web_utils.rest_base_url(self._domain), account_index=self._account_index,
                api_private_keys={self._api_key_index: self._private_key},
                nonce_management_type=nonce_manager.NonceManagerType.OPTIMISTIC,
                chain_id=CONSTANTS.CHAIN_IDS[self._domain])
        except Exception as e:
            # The Go library's message may quote the key; never pass it on.
            self.logger().debug(f"Lighter signer rejected the API key: {self._scrub(str(e))}")
            raise LighterKeyError(_BAD_KEY_MESSAGE)
        await self._signer.api_client.close()
        self._nonce_manager = self._signer.nonce_manager

    async def start(self):
        """Returns once the dispatcher has read the nonce (or tried to)."""
        self._ensure_dispatcher()
        await self._ensure_signer()
        await self._ready.wait()

    def _ensure_dispatcher(self):
        # Synchronous, so orders submitted in one tick all reach the queue in that tick and leave together.
        if self._dispatcher is None or self._dispatcher.done():
            self._ready.clear()
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_loop())

    async def stop(self):
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            self._dispatcher = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(LighterTransactionError("The connector stopped before sending."))
        self._signer = None
        self._nonce_stale = True

    # --- signing helpers run on the worker thread -------------------------------------------------------------------

    async def _on_signer_thread(self, fn: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(_SIGNER_THREAD, fn, *args)

    async def auth_token(self) -> str:
        """A read token for private REST endpoints and WebSocket channels, refreshed before it expires."""
        async with self._auth_lock:
            now = time.time()
            if self._auth_token is None or self._auth_token_deadline - now < CONSTANTS.AUTH_TOKEN_REFRESH_MARGIN:
                signer = await self._ensure_signer()
                timestamp = int(now)
                token, error = await self._on_signer_thread(
                    lambda: signer.create_auth_token_with_expiry(
                        CONSTANTS.AUTH_TOKEN_LIFETIME, timestamp=timestamp, api_key_index=self._api_key_index))
                if error:
                    raise LighterKeyError(f"Could not create a Lighter auth token: {self._scrub(error)}")
                self._auth_token, self._auth_token_deadline = token, timestamp + CONSTANTS.AUTH_TOKEN_LIFETIME
            return self._auth_token

    # --- submission ----------------------------------------------------------------------------------------------

    async def submit(self, sign: SignCall) -> str:
        """Queues one transaction; returns its hash once the exchange accepted it, or raises LighterTransactionError."""
        self._ensure_dispatcher()
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_PendingTx(sign=sign, future=future))
        return await future

    def create_order(self, market_index: int, client_order_index: int, base_amount: int, price: int, is_ask: bool,
                     order_type: int, time_in_force: int, reduce_only: bool, order_expiry: int) -> SignCall:
        def sign(signer, nonce: int, api_key_index: int):
            return signer.sign_create_order(
                market_index, client_order_index, base_amount, price, int(is_ask), order_type, time_in_force,
                int(reduce_only), 0, order_expiry, nonce=nonce, api_key_index=api_key_index)
        return sign

    @staticmethod
    def cancel_order(market_index: int, order_index: int) -> SignCall:
        """Cancels by order index or, below 2^48, by client order index: no look-up of the exchange's index."""
        def sign(signer, nonce: int, api_key_index: int):
            return signer.sign_cancel_order(market_index, order_index, nonce=nonce, api_key_index=api_key_index)
        return sign

    @staticmethod
    def cancel_all_orders() -> SignCall:
        def sign(signer, nonce: int, api_key_index: int):
            return signer.sign_cancel_all_orders(CONSTANTS.CANCEL_ALL_IMMEDIATE, 0, nonce=nonce,
                                                 api_key_index=api_key_index)
        return sign

    @staticmethod
    def update_leverage(market_index: int, initial_margin_fraction: int) -> SignCall:
        def sign(signer, nonce: int, api_key_index: int):
            return signer.sign_update_leverage(market_index, initial_margin_fraction, CONSTANTS.CROSS_MARGIN_MODE,
                                               nonce=nonce, api_key_index=api_key_index)
        return sign

    # --- dispatcher ---------------------------------------------------------------------------------------------

    async def _dispatch_loop(self):
        # Only this task touches nonces, so a re-read can never rewind one a batch in flight has used. The nonce is
        # read now rather than in front of the first order.
        try:
            await self._ensure_signer()
            await self._resync_nonce()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.logger().warning(f"Could not read the Lighter nonce yet ({e.__class__.__name__}); will retry.")
        self._ready.set()
        while True:
            batch = [await self._queue.get()]
            # Orders created in the same tick are queued by then; they leave together.
            await asyncio.sleep(0)
            while len(batch) < CONSTANTS.MAX_TX_PER_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._process(batch)
            except asyncio.CancelledError:
                raise
            except LighterTransactionError as e:
                self._fail(batch, e)
            except Exception as e:
                self.logger().error(f"Unexpected error sending Lighter transactions: {self._scrub(str(e))}",
                                    exc_info=True)
                self._fail(batch, LighterTransactionError(f"Unexpected error: {self._scrub(str(e))}"))
                self._nonce_stale = True

    @staticmethod
    def _fail(txs: List[_PendingTx], error: Exception):
        for tx in txs:
            if not tx.future.done():
                tx.future.set_exception(error)

    async def fetch_next_nonce(self) -> int:
        rest = await self._api_factory.get_rest_assistant()
        response = await rest.execute_request(
            url=web_utils.public_rest_url(CONSTANTS.NEXT_NONCE_PATH, self._domain),
            params={"account_index": self._account_index, "api_key_index": self._api_key_index},
            throttler_limit_id=CONSTANTS.NEXT_NONCE_PATH, timeout=SEND_TIMEOUT)
        return int(response["nonce"])

    async def _resync_nonce(self) -> int:
        next_nonce = await self.fetch_next_nonce()
        self._nonce_manager.nonce[self._api_key_index] = next_nonce - 1
        self._nonce_stale = False
        return next_nonce

    def _sign_batch(self, txs: List[_PendingTx]) -> List[Tuple[_PendingTx, str]]:
        """Runs on the worker thread. Nonces are drawn one by one so a transaction the signer refuses gives its
        nonce back and the rest stay consecutive."""
        refused = []
        for tx in txs:
            _, nonce = self._nonce_manager.next_nonce(self._api_key_index)
            tx_type, tx_info, tx_hash, error = tx.sign(self._signer, nonce, self._api_key_index)
            if error:
                self._nonce_manager.acknowledge_failure(self._api_key_index)
                refused.append((tx, error))
            else:
                tx.nonce, tx.tx_type, tx.tx_info, tx.tx_hash = nonce, tx_type, tx_info, tx_hash
        return refused

    async def _process(self, txs: List[_PendingTx]):
        await self._ensure_signer()
        if self._nonce_stale:
            await self._resync_nonce()
        for tx, error in await self._on_signer_thread(self._sign_batch, txs):
            self._fail([tx], LighterTransactionError(f"The signer refused the transaction: {self._scrub(error)}"))
        signed = [tx for tx in txs if tx.nonce >= 0]
        if not signed:
            return
        code, message, hashes = await self._send(signed)
        if code == CONSTANTS.CODE_OK:
            for tx, tx_hash in zip(signed, hashes or [tx.tx_hash for tx in signed]):
                tx.future.set_result(tx_hash or tx.tx_hash)
            return
        if code is not None:
            # Refused by the exchange: none of these nonces were used.
            self._nonce_manager.nonce[self._api_key_index] = signed[0].nonce - 1
            if code in CONSTANTS.NONCE_ERROR_CODES:
                self._nonce_stale = True
            error_class = LighterKeyError if code in CONSTANTS.KEY_ERROR_CODES else LighterTransactionError
            self._fail(signed, error_class(f"Lighter rejected the transaction: {message} (code {code})", code))
            return
        # Throttled, timed out, server or connection error: the exchange's nonce says what it consumed.
        try:
            next_nonce = await self._resync_nonce()
        except Exception as e:
            self._nonce_stale = True
            self._fail(signed, LighterTransactionError(f"{message}; the nonce could not be re-read: {e}"))
            return
        for tx in signed:
            if tx.nonce < next_nonce:
                tx.future.set_result(tx.tx_hash)
            else:
                tx.future.set_exception(LighterTransactionError(message))

    async def _send(self, txs: List[_PendingTx]) -> Tuple[Optional[int], str, Optional[List[str]]]:
        """Returns (code, message, tx hashes); code is None when the outcome is unknown (no usable answer)."""
        if len(txs) == 1:
            path, data = CONSTANTS.SEND_TX_PATH, {"tx_type": txs[0].tx_type, "tx_info": txs[0].tx_info}
        else:
            path = CONSTANTS.SEND_TX_BATCH_PATH
            data = {"tx_types": json.dumps([tx.tx_type for tx in txs]),
                    "tx_infos": json.dumps([tx.tx_info for tx in txs])}
        rest = await self._api_factory.get_rest_assistant()
        try:
            response = await rest.execute_request_and_get_response(
                url=web_utils.public_rest_url(path, self._domain), throttler_limit_id=path, data=data,
                method=RESTMethod.POST, return_err=True, timeout=SEND_TIMEOUT)
            status = response.status
            body = await response.json() if status < 500 and status != 429 else {}
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            return None, f"No answer from Lighter within {SEND_TIMEOUT:.0f} s", None
        except Exception as e:
            return None, f"Sending to Lighter failed: {e.__class__.__name__}", None
        if status == 429:
            return None, "Lighter rate limit hit (HTTP 429)", None
        if status >= 500:
            return None, f"Lighter server error (HTTP {status})", None
        code = body.get("code") if isinstance(body, dict) else None
        if code is None:
            return None, f"Unexpected answer from Lighter (HTTP {status})", None
        hashes = body.get("tx_hash")
        return int(code), str(body.get("message", "")), hashes if isinstance(hashes, list) else [hashes]
