"""Signing, nonces and transport of Lighter transactions.

The official signer (lighter-sdk's Go library) signs every transaction on one worker thread, always with an explicit
nonce and API key index (with nonce -1 the Go library would block on its own HTTP call). Nonces come from the SDK's
OptimisticNonceManager, seeded and resynchronised from /nextNonce through Hummingbot's WebAssistant and throttler.

Transactions that are ready at the same moment leave together: one dispatcher per API key drains everything queued,
signs it in one hop to the worker thread and sends it as one sendtx or sendtxbatch (at most 15). They travel over a
WebSocket of their own: the exchange reads one connection's frames in order, so the next batch can leave before the
previous one is answered and nonces still arrive in order. Without that socket they go over REST, one request at a
time, since concurrent HTTP requests may overtake each other.

After any failure nothing new is sent until every batch in the air has been answered; then the nonce is re-read from
the exchange, which also tells whether transactions without an answer were executed. Batches refused only because an
earlier one failed (a nonce error behind a failure) are signed again with fresh nonces: one failure never causes a
second.
"""
import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
import traceback
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from hummingbot.connector.derivative.lighter_perpetual import (
    lighter_perpetual_constants as CONSTANTS,
    lighter_perpetual_parsers as parsers,
    lighter_perpetual_web_utils as web_utils,
)
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, WSJSONRequest
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.core.web_assistant.ws_assistant import WSAssistant
from hummingbot.logger import HummingbotLogger

# Signing on the event loop costs ~6 ms per transaction (cgo re-reads /proc/self/maps on the main thread); on a
# worker thread ~0.7 ms. A second thread gives no speed-up, and one thread keeps the Go library's state serial.
_SIGNER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lighter-signer")

SEND_TIMEOUT = 10.0
# After the transaction WebSocket could not be opened, REST carries transactions this long before the next try.
SOCKET_RETRY_INTERVAL = 60.0
# Before the nonce decides frames that got no answer, in seconds.
UNANSWERED_GRACE = 1.0
# How long stopping waits for answers to frames in the air, in seconds.
STOP_ANSWER_WAIT = 2.0
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


@dataclass
class _Flight:
    """Transactions sent in one frame, waiting for the exchange's answer."""
    txs: List[_PendingTx]
    timer: asyncio.TimerHandle


@dataclass
class _Undecided:
    """Transactions whose outcome the re-read nonce decides: no answer came, or their batch was refused (a batch may
    have been executed up to the transaction the exchange refused)."""
    txs: List[_PendingTx]
    error: LighterTransactionError
    refused: bool


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
        # Queued transactions; `_resend` holds those to sign again, which go first, in their original order.
        self._queue: Deque[_PendingTx] = deque()
        self._resend: List[_PendingTx] = []
        self._wakeup = asyncio.Event()
        self._dispatcher: Optional[asyncio.Task] = None
        self._ready = asyncio.Event()
        # Frames sent on the socket and not answered yet, in the order they left.
        self._flights: "OrderedDict[str, _Flight]" = OrderedDict()
        self._request_ids = itertools.count(1)
        self._undecided: List[_Undecided] = []
        # Set when a transaction in the air failed: later nonce errors then only mean "not executed because of it".
        self._failure_in_the_air = False
        # When that first failure was a refusal, its first nonce is the one the exchange expects next.
        self._refused_nonce: Optional[int] = None
        self._socket: Optional[WSAssistant] = None
        self._socket_reader: Optional[asyncio.Task] = None
        self._socket_retry_at = 0.0
        self._closing: Set[asyncio.Task] = set()
        self._auth_token: Optional[str] = None
        self._auth_token_deadline = 0.0
        self._auth_lock = asyncio.Lock()
        self._signer_lock = asyncio.Lock()

    @property
    def account_index(self) -> int:
        return self._account_index

    @property
    def api_key_index(self) -> int:
        return self._api_key_index

    @property
    def running(self) -> bool:
        return self._dispatcher is not None and not self._dispatcher.done()

    def _scrub(self, text: str) -> str:
        key = self._private_key.strip().removeprefix("0x")
        return re.sub(re.escape(key), "***", text, flags=re.IGNORECASE) if key else text

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
            raise LighterKeyError(_BAD_KEY_MESSAGE) from None
        await self._signer.api_client.close()
        self._nonce_manager = self._signer.nonce_manager

    async def start(self):
        """Returns once the dispatcher has read the nonce and opened its socket (or tried to)."""
        self._ensure_dispatcher()
        await self._ensure_signer()
        await self._ready.wait()

    def _ensure_dispatcher(self):
        # Synchronous, so orders submitted in one tick all reach the queue in that tick and leave together.
        if self._dispatcher is None or self._dispatcher.done():
            self._ready.clear()
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_loop())

    async def stop(self):
        # Frames in the air get a moment to be answered: failing an order Lighter executes would leave it untracked.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._flights_landed(), STOP_ANSWER_WAIT)
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            self._dispatcher = None
        stopped = LighterTransactionError("The connector stopped before Lighter answered.")
        for flight in self._flights.values():
            self._fail(flight.txs, stopped)
        socket = self._abandon_socket("The connector stopped")
        if socket is not None:
            await socket.disconnect()
        self._fail(self._resend + list(self._queue) + [tx for group in self._undecided for tx in group.txs], stopped)
        self._resend, self._undecided = [], []
        self._queue.clear()
        self._failure_in_the_air = False
        self._refused_nonce = None
        self._signer = None
        self._nonce_stale = True

    async def _flights_landed(self):
        while self._flights:
            self._wakeup.clear()
            await self._wakeup.wait()

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
        self._queue.append(_PendingTx(sign=sign, future=future))
        self._wakeup.set()
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
        # Only this task touches nonces, so a re-read can never rewind one a batch being signed has drawn. The nonce
        # is read and the socket opened now rather than in front of the first order.
        try:
            await self._ensure_signer()
            await self._resync_nonce()
            await self._transaction_socket()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.logger().warning(f"Could not read the Lighter nonce yet ({e.__class__.__name__}); will retry.")
        self._ready.set()
        while True:
            batch = await self._next_batch()
            try:
                await self._dispatch(batch)
            except asyncio.CancelledError:
                # Stopped while signing or waiting for the throttler: these never left.
                self._fail(batch, LighterTransactionError("The connector stopped before sending."))
                raise
            except LighterTransactionError as e:
                self._fail(batch, e)
            except Exception as e:
                # The traceback is scrubbed too: an exception from the signer may quote the key.
                self.logger().error(f"Unexpected error sending Lighter transactions: "
                                    f"{self._scrub(traceback.format_exc())}")
                self._fail(batch, LighterTransactionError(f"Unexpected error: {self._scrub(str(e))}"))
                self._nonce_stale = True

    async def _next_batch(self) -> List[_PendingTx]:
        while True:
            if self._undecided and not self._flights:
                await self._recover()
            elif self._resend or self._queue:
                break
            else:
                self._wakeup.clear()
                await self._wakeup.wait()
                # Orders submitted together reach the queue over a few loop iterations (the derivative starts a
                # burst a few per iteration): they leave together once the queue stops growing.
                queued = -1
                while queued != len(self._queue) and len(self._queue) < CONSTANTS.MAX_TX_PER_BATCH:
                    queued = len(self._queue)
                    await asyncio.sleep(0)
        # Transactions to send again keep their old nonce until signed again: it gives their original order.
        self._resend.sort(key=lambda tx: tx.nonce)
        batch = [tx for tx in self._resend[:CONSTANTS.MAX_TX_PER_BATCH] if not tx.future.done()]
        del self._resend[:CONSTANTS.MAX_TX_PER_BATCH]
        for tx in batch:
            tx.nonce = -1
        while len(batch) < CONSTANTS.MAX_TX_PER_BATCH and self._queue and not self._resend:
            tx = self._queue.popleft()
            if not tx.future.done():  # its submitter gave up before it was signed
                batch.append(tx)
        return batch

    async def _dispatch(self, txs: List[_PendingTx]):
        if not txs:
            return
        await self._ensure_signer()
        socket = await self._transaction_socket()
        if self._nonce_stale:
            failure = await self._recover()
            if failure:
                raise LighterTransactionError(failure)
        for tx, error in await self._on_signer_thread(self._sign_batch, txs):
            self._fail([tx], LighterTransactionError(f"The signer refused the transaction: {self._scrub(error)}"))
        signed = [tx for tx in txs if tx.nonce >= 0]
        if not signed:
            return
        if socket is not None and self._socket is socket:
            await self._send_frame(socket, signed)
        else:
            self._conclude(signed, *(await self._send_rest(signed)))

    async def _recover(self) -> Optional[str]:
        """Waits until no frame is in the air, then re-reads the nonce: it tells which undecided transactions were
        executed, and the next transactions carry the nonce the exchange expects. Returns why that failed, if it did
        (the nonce stays stale, so the next batch tries again)."""
        await self._flights_landed()
        refused_nonce, self._refused_nonce = self._refused_nonce, None
        self._failure_in_the_air = False
        # Nothing to decide and the first failure was a refusal: the expected nonce is known without asking.
        if refused_nonce is not None and not self._undecided:
            self._nonce_manager.nonce[self._api_key_index] = refused_nonce - 1
            self._nonce_stale = False
            return None
        if any(not group.refused for group in self._undecided):
            # A frame the exchange received just before its answer was lost may still be executing.
            await asyncio.sleep(UNANSWERED_GRACE)
        try:
            next_nonce = await self._resync_nonce()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            failure = f"the Lighter nonce could not be re-read ({e.__class__.__name__})"
            undecided, self._undecided = self._undecided, []
            for group in undecided:
                self._fail(group.txs, LighterTransactionError(f"{group.error}; {failure}", group.error.code))
            return failure[0].upper() + failure[1:]
        undecided, self._undecided = self._undecided, []
        for group in undecided:
            self._decide(group, next_nonce)
        return None

    def _decide(self, group: _Undecided, next_nonce: int):
        if not group.refused:
            # No answer: what the exchange consumed was executed.
            for tx in group.txs:
                if tx.nonce < next_nonce:
                    self._resolve(tx, tx.tx_hash)
                else:
                    self._fail([tx], group.error)
        elif group.txs[0].nonce < next_nonce <= group.txs[-1].nonce:
            # Executed up to the refused transaction, which failed; those behind it never ran because of it.
            for tx in group.txs:
                if tx.nonce < next_nonce:
                    self._resolve(tx, tx.tx_hash)
                elif tx.nonce == next_nonce:
                    self._fail([tx], group.error)
                else:
                    self._resend.append(tx)
        else:
            self._fail(group.txs, group.error)

    def _resolve_in_slices(self, results: List[Tuple[_PendingTx, str]]):
        """Each accepted order wakes Hummingbot's order tracking (~0.1 ms): a batch wakes them a few per loop
        iteration, so the loop never stalls behind a whole batch."""
        for tx, tx_hash in results[:CONSTANTS.ORDERS_PER_LOOP_ITERATION]:
            self._resolve(tx, tx_hash)
        if len(results) > CONSTANTS.ORDERS_PER_LOOP_ITERATION:
            asyncio.get_running_loop().call_soon(self._resolve_in_slices,
                                                 results[CONSTANTS.ORDERS_PER_LOOP_ITERATION:])

    @staticmethod
    def _resolve(tx: _PendingTx, tx_hash: str):
        if not tx.future.done():
            tx.future.set_result(tx_hash)

    @staticmethod
    def _fail(txs: List[_PendingTx], error: Exception):
        for tx in txs:
            if not tx.future.done():
                tx.future.set_exception(error)

    def _conclude(self, txs: List[_PendingTx], code: Optional[int], message: str, hashes: List[str]):
        """Applies the exchange's answer (code None: no usable answer) to the transactions it covers."""
        if code == CONSTANTS.CODE_OK:
            self._resolve_in_slices([(tx, hashes[index] if index < len(hashes) and hashes[index] else tx.tx_hash)
                                     for index, tx in enumerate(txs)])
            if self._failure_in_the_air:
                self._refused_nonce = None  # accepted after a refusal: only the exchange knows the next nonce now
            return
        self._nonce_stale = True
        if code is None:
            # Throttled, timed out, server or connection error: the re-read nonce will say what was executed.
            self._undecided.append(_Undecided(txs=txs, error=LighterTransactionError(message), refused=False))
        elif code in CONSTANTS.NONCE_ERROR_CODES and self._failure_in_the_air:
            # Never executed, only because an earlier transaction failed: they leave again with fresh nonces.
            self._resend.extend(txs)
        else:
            error_class = LighterKeyError if code in CONSTANTS.KEY_ERROR_CODES else LighterTransactionError
            error = error_class(f"Lighter rejected the transaction: {message} (code {code})", code)
            if len(txs) > 1 and code not in CONSTANTS.NONCE_ERROR_CODES:
                self._undecided.append(_Undecided(txs=txs, error=error, refused=True))
            else:
                if not self._failure_in_the_air and code not in CONSTANTS.NONCE_ERROR_CODES:
                    # Refused after everything before it was accepted: its nonce is the next one.
                    self._refused_nonce = txs[0].nonce
                self._fail(txs, error)
        self._failure_in_the_air = True
        self._wakeup.set()

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

    # --- transport: WebSocket -----------------------------------------------------------------------------------

    async def _transaction_socket(self) -> Optional[WSAssistant]:
        """The open transaction socket; None while REST carries transactions."""
        if self._socket is not None or time.monotonic() < self._socket_retry_at:
            return self._socket
        socket = await self._api_factory.get_ws_assistant()
        try:
            await asyncio.wait_for(socket.connect(ws_url=web_utils.wss_url(self._domain),
                                                  ping_timeout=CONSTANTS.WS_HEARTBEAT_INTERVAL), SEND_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self._socket_retry_at = time.monotonic() + SOCKET_RETRY_INTERVAL
            self.logger().warning(f"Lighter transactions go over REST for now: their WebSocket could not be opened "
                                  f"({e.__class__.__name__}).")
            return None
        self._socket = socket
        self._socket_reader = asyncio.get_running_loop().create_task(self._read_answers(socket))
        return socket

    @staticmethod
    def _send_fields(txs: List[_PendingTx]) -> Tuple[str, Dict[str, Any]]:
        """The sendTx (one transaction) or sendTxBatch path and fields, as REST and the WebSocket both take them."""
        if len(txs) == 1:
            return CONSTANTS.SEND_TX_PATH, {"tx_type": txs[0].tx_type, "tx_info": txs[0].tx_info}
        return CONSTANTS.SEND_TX_BATCH_PATH, {"tx_types": json.dumps([tx.tx_type for tx in txs]),
                                              "tx_infos": json.dumps([tx.tx_info for tx in txs])}

    async def _send_frame(self, socket: WSAssistant, txs: List[_PendingTx]):
        request_id = str(next(self._request_ids))
        path, fields = self._send_fields(txs)
        if path == CONSTANTS.SEND_TX_PATH:
            # A single transaction's tx_info travels as a JSON object on the WebSocket.
            fields["tx_info"] = json.loads(fields["tx_info"])
        kind = CONSTANTS.WS_SEND_TX if path == CONSTANTS.SEND_TX_PATH else CONSTANTS.WS_SEND_TX_BATCH
        payload = {"type": kind, "data": {"id": request_id, **fields}}
        async with self._api_factory.throttler.execute_task(limit_id=path):
            if self._socket is not socket:
                # Lost while this batch waited for the throttler: it never left, so it is signed again.
                self._resend.extend(txs)
                self._nonce_stale = True
                return
            self._flights[request_id] = _Flight(txs=txs, timer=asyncio.get_running_loop().call_later(
                SEND_TIMEOUT, self._land, request_id, None, f"No answer from Lighter within {SEND_TIMEOUT:.0f} s"))
            try:
                await socket.send(WSJSONRequest(payload=payload))
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._land(request_id, None, f"Sending to Lighter failed: {e.__class__.__name__}")

    def _land(self, request_id: Optional[str], code: Optional[int], message: str, hashes: Optional[List[str]] = None):
        """Concludes a frame with its answer (code None: no answer)."""
        if request_id is None and self._flights:
            # The exchange answers one connection's frames in order: an answer without an id is the oldest frame's.
            request_id = next(iter(self._flights))
        flight = self._flights.pop(request_id, None)
        if flight is None:
            return
        flight.timer.cancel()
        self._conclude(flight.txs, code, message, hashes or [])
        if code is None:
            # A socket that lost one answer is not trusted with the others: they are concluded the same way.
            socket = self._abandon_socket(message)
            if socket is not None:
                task = asyncio.get_running_loop().create_task(socket.disconnect())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self._wakeup.set()

    def _abandon_socket(self, reason: str) -> Optional[WSAssistant]:
        """Drops the transaction socket (returned, to disconnect) and concludes every frame in the air unanswered."""
        socket, reader = self._socket, self._socket_reader
        self._socket, self._socket_reader = None, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        flights = list(self._flights.values())
        self._flights.clear()
        for flight in flights:
            flight.timer.cancel()
            self._conclude(flight.txs, None, reason, [])
        return socket

    async def _read_answers(self, socket: WSAssistant):
        reason = "The Lighter connection closed before it answered"
        try:
            async for response in socket.iter_messages():
                message = response.data
                if not isinstance(message, dict):
                    continue
                if await web_utils.answer_ping(socket, message):
                    continue
                answer = parsers.parse_tx_answer(message)
                if answer is None:
                    continue
                if self._socket is not socket:
                    break  # dropped meanwhile: its frames were concluded already
                if answer.request_id is None and answer.code != CONSTANTS.CODE_OK:
                    # An error that names no transaction may concern the connection: the nonce decides.
                    self._land(None, None, f"Lighter answered: {answer.message} (code {answer.code})")
                else:
                    self._land(answer.request_id, answer.code, answer.message, answer.tx_hashes)
                    # Answers that arrived together are taken one per loop iteration: each wakes up to 15 orders.
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            reason = f"The Lighter connection failed before it answered ({e.__class__.__name__})"
        if self._socket is socket:
            self._abandon_socket(reason)
            await socket.disconnect()

    # --- transport: REST ----------------------------------------------------------------------------------------

    async def _send_rest(self, txs: List[_PendingTx]) -> Tuple[Optional[int], str, List[str]]:
        """Returns (code, message, tx hashes); code is None when the outcome is unknown (no usable answer)."""
        path, data = self._send_fields(txs)
        rest = await self._api_factory.get_rest_assistant()
        try:
            response = await rest.execute_request_and_get_response(
                url=web_utils.public_rest_url(path, self._domain), throttler_limit_id=path, data=data,
                method=RESTMethod.POST, return_err=True, timeout=SEND_TIMEOUT)
            status = response.status
            body = await response.text()
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            return None, f"No answer from Lighter within {SEND_TIMEOUT:.0f} s", []
        except Exception as e:
            return None, f"Sending to Lighter failed: {e.__class__.__name__}", []
        if status == 429:
            return None, "Lighter rate limit hit (HTTP 429)", []
        if status >= 500:
            return None, f"Lighter server error (HTTP {status})", []
        try:
            answer = parsers.parse_tx_answer(json.loads(body))
        except ValueError:
            answer = None
        if answer is not None and answer.code is not None:
            return answer.code, answer.message, answer.tx_hashes
        if status >= 400:
            # Refused before anything was executed, without Lighter's usual {code, message}.
            return status, f"Lighter refused the request (HTTP {status})", []
        return None, f"Unexpected answer from Lighter (HTTP {status})", []
