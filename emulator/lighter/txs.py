"""Decoding and validation of signed L2 transactions (the `tx_info` JSON made by the lighter-sdk signer).

The Schnorr signature itself is not verified (that would need the ECgFp5 crypto); its encoding is, and
so are the account, API key, ExpiredAt, nonce and every order field, with the venue's result codes.
A rejected transaction does not consume its nonce. /nextNonce counts executed transactions; with
`faults.next_nonce_lag_ms` it shows each execution that much later, as the venue's sequencer executes a transaction
some time after its API accepted it (lighter-python's ApiNonceManager advises waiting at least 350 ms).
"""
import base64
import binascii
import hashlib
import json
from collections import deque
from dataclasses import replace
from typing import Any, Deque, Dict, List, Optional, Tuple

from emulator.lighter import constants as C
from emulator.lighter.engine import Events, MatchingEngine
from emulator.lighter.errors import LighterError
from emulator.lighter.faults import Faults
from emulator.lighter.state import Account, ApiKey, ExchangeState, now_ms

SUPPORTED_TX_TYPES = (C.TX_TYPE_CREATE_ORDER, C.TX_TYPE_CANCEL_ORDER, C.TX_TYPE_CANCEL_ALL_ORDERS,
                      C.TX_TYPE_MODIFY_ORDER, C.TX_TYPE_UPDATE_LEVERAGE)
COMMON_FIELDS = ("AccountIndex", "ApiKeyIndex", "ExpiredAt", "Nonce", "Sig")
TYPE_FIELDS = {
    C.TX_TYPE_CREATE_ORDER: ("MarketIndex", "ClientOrderIndex", "BaseAmount", "Price", "IsAsk", "Type",
                             "TimeInForce", "ReduceOnly", "TriggerPrice", "OrderExpiry"),
    C.TX_TYPE_CANCEL_ORDER: ("MarketIndex", "Index"),
    C.TX_TYPE_CANCEL_ALL_ORDERS: ("TimeInForce", "Time"),
    C.TX_TYPE_MODIFY_ORDER: ("MarketIndex", "Index", "BaseAmount", "Price", "TriggerPrice"),
    C.TX_TYPE_UPDATE_LEVERAGE: ("MarketIndex", "InitialMarginFraction", "MarginMode"),
}
PREDICTED_EXECUTION_DELAY_MS = 50


def tx_hash_of(tx_info: str) -> str:
    """A stable 40-byte (80 hex) identifier for the tx; the real Poseidon hash is not reproduced."""
    return hashlib.blake2b(tx_info.encode(), digest_size=40).hexdigest()


class DecodedTx:
    __slots__ = ("tx_type", "info", "raw", "account", "key", "nonce", "skip_nonce", "tx_hash")

    def __init__(self, tx_type: int, info: Dict[str, Any], raw: str):
        self.tx_type = tx_type
        self.info = info
        self.raw = raw
        self.account: Optional[Account] = None
        self.key: Optional[ApiKey] = None
        self.nonce = info["Nonce"]
        attributes = info.get("L2TxAttributes") or {}
        self.skip_nonce = attributes.get(C.ATTR_SKIP_NONCE) == 1
        self.tx_hash = tx_hash_of(raw)


def decode(tx_type: Any, tx_info: Any) -> DecodedTx:
    """Parses one (tx_type, tx_info) pair; tx_info may be the JSON string or an already-decoded object."""
    try:
        tx_type = int(tx_type)
    except (TypeError, ValueError):
        raise LighterError(C.INVALID_TX_INFO, detail="tx_type")
    if tx_type not in SUPPORTED_TX_TYPES:
        raise LighterError(C.UNSUPPORTED_TX_TYPE)
    if isinstance(tx_info, dict):
        info, raw = tx_info, json.dumps(tx_info, separators=(",", ":"))
    else:
        raw = str(tx_info)
        try:
            info = json.loads(raw)
        except ValueError:
            raise LighterError(C.INVALID_TX_INFO)
    if not isinstance(info, dict):
        raise LighterError(C.INVALID_TX_INFO)
    for name in COMMON_FIELDS + TYPE_FIELDS[tx_type]:
        value = info.get(name)
        expected = str if name == "Sig" else int
        if not isinstance(value, expected) or isinstance(value, bool):
            raise LighterError(C.INVALID_TX_INFO, detail=name)
    attributes = info.get("L2TxAttributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise LighterError(C.INVALID_TX_INFO, detail="L2TxAttributes")
    try:
        signature = base64.b64decode(info["Sig"], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != C.SIG_BYTES:
        raise LighterError(C.INVALID_TX_INFO, detail="TxSignature is invalid")
    return DecodedTx(tx_type, info, raw)


class TxProcessor:
    def __init__(self, state: ExchangeState, engine: MatchingEngine, faults: Faults):
        self.state = state
        self.engine = engine
        self.faults = faults
        # (account, API key) -> [next nonce /nextNonce shows, executions not shown yet as (visible at ms, next nonce)]
        self._lagging: Dict[Tuple[int, int], list] = {}
        # The real minimum is 5 minutes; tests of the dead man's switch lower it (LighterEmulator's
        # min_cancel_all_period_ms) so a window passes in seconds.
        self.min_cancel_all_period_ms = C.MIN_ORDER_CANCEL_ALL_PERIOD_MS

    def reported_next_nonce(self, account_index: int, key: ApiKey) -> int:
        """What /nextNonce answers: the next nonce after the executions old enough to be seen."""
        lagging = self._lagging.get((account_index, key.api_key_index))
        if lagging is None:
            return key.next_nonce
        pending: Deque[Tuple[int, int]] = lagging[1]
        now = now_ms()
        while pending and pending[0][0] <= now:
            lagging[0] = pending.popleft()[1]
        if not pending:
            del self._lagging[(account_index, key.api_key_index)]
        return lagging[0]

    def _record_execution(self, tx: DecodedTx):
        if self.faults.next_nonce_lag_ms:
            lagging = self._lagging.setdefault((tx.account.index, tx.key.api_key_index), [tx.nonce, deque()])
            lagging[1].append((now_ms() + self.faults.next_nonce_lag_ms, tx.nonce + 1))

    def send(self, tx_type: Any, tx_info: Any, events: Events) -> str:
        tx = decode(tx_type, tx_info)
        self._authorize(tx, expected_nonce=None)
        self._apply(tx, events)
        return tx.tx_hash

    def send_batch(self, tx_types: List[Any], tx_infos: List[Any], events: Events) -> List[str]:
        """Validates the whole batch's framing and nonce order first, then applies the txs in order."""
        if len(tx_types) != len(tx_infos) or not tx_types:
            raise LighterError(C.INVALID_PARAM, detail="tx_types and tx_infos must be non-empty and equal length")
        if len(tx_types) > C.MAX_SEND_TX_BATCH:
            raise LighterError(C.INVALID_PARAM, detail=f"at most {C.MAX_SEND_TX_BATCH} transactions per batch")
        decoded = [decode(tx_type, tx_info) for tx_type, tx_info in zip(tx_types, tx_infos)]
        last: Dict[Tuple[int, int], int] = {}
        for tx in decoded:
            key = (tx.info["AccountIndex"], tx.info["ApiKeyIndex"])
            if key in last and tx.nonce <= last[key]:
                raise LighterError(C.BATCH_NONCE_NOT_INCREASING)
            last[key] = tx.nonce
        hashes = []
        for tx in decoded:
            self._authorize(tx, expected_nonce=None)
            self._apply(tx, events)
            hashes.append(tx.tx_hash)
        return hashes

    @staticmethod
    def predicted_execution_time_ms() -> int:
        return now_ms() + PREDICTED_EXECUTION_DELAY_MS

    # ---- checks ------------------------------------------------------------------------------------------

    def _authorize(self, tx: DecodedTx, expected_nonce: Optional[int]):
        info = tx.info
        account = self.state.account(info["AccountIndex"])
        if account is None:
            raise LighterError(C.API_KEY_NOT_FOUND)
        key = account.api_keys.get(info["ApiKeyIndex"])
        if key is None:
            raise LighterError(C.API_KEY_NOT_FOUND)
        if info["ExpiredAt"] <= now_ms():
            raise LighterError(C.INVALID_EXPIRY, detail="ExpiredAt")
        nonce_error = self.faults.nonce_error or C.INVALID_NONCE
        if self.faults.take_nonce_error():
            raise LighterError(nonce_error)
        if tx.skip_nonce:
            if not key.next_nonce - 1 < tx.nonce < C.TWO_POW_47:
                raise LighterError(nonce_error)
        elif tx.nonce != key.next_nonce:
            raise LighterError(nonce_error)
        tx.account, tx.key = account, key

    def _apply(self, tx: DecodedTx, events: Events):
        handler = {
            C.TX_TYPE_CREATE_ORDER: self._create_order,
            C.TX_TYPE_CANCEL_ORDER: self._cancel_order,
            C.TX_TYPE_CANCEL_ALL_ORDERS: self._cancel_all,
            C.TX_TYPE_MODIFY_ORDER: self._modify_order,
            C.TX_TYPE_UPDATE_LEVERAGE: self._update_leverage,
        }[tx.tx_type]
        commit = handler(tx)
        # only a fully validated tx consumes its nonce and a block; then it executes
        self._record_execution(tx)
        tx.key.next_nonce = tx.nonce + 1
        self.state.block_height += 1
        commit(events)

    def _market(self, market_index: int):
        market = self.state.market(market_index)
        if market is None or market.spec.status != "active":
            raise LighterError(C.INVALID_MARKET_INDEX)
        return market

    def _create_order(self, tx: DecodedTx):
        info, account = tx.info, tx.account
        market = self._market(info["MarketIndex"])
        client_index, base, price = info["ClientOrderIndex"], info["BaseAmount"], info["Price"]
        order_type, tif, reduce_only = info["Type"], info["TimeInForce"], info["ReduceOnly"]
        expiry = info["OrderExpiry"]
        if not 0 <= client_index <= C.MAX_CLIENT_ORDER_INDEX:
            raise LighterError(C.INVALID_CLIENT_ORDER_INDEX)
        if reduce_only not in (0, 1):
            raise LighterError(C.INVALID_TX_INFO, detail="ReduceOnly is invalid")
        if not (0 if reduce_only else 1) <= base <= C.MAX_BASE_AMOUNT:
            raise LighterError(C.INVALID_BASE_AMOUNT)
        if not 1 <= price <= C.MAX_PRICE:
            raise LighterError(C.INVALID_PRICE)
        if info["IsAsk"] not in (0, 1):
            raise LighterError(C.INVALID_IS_ASK)
        if tif not in C.TIF_NAMES:
            raise LighterError(C.INVALID_TIME_IN_FORCE)
        if order_type not in C.ORDER_TYPE_NAMES:
            raise LighterError(C.INVALID_ORDER_TYPE)
        if order_type not in (C.ORDER_TYPE_LIMIT, C.ORDER_TYPE_MARKET):
            raise LighterError(C.UNSUPPORTED_ORDER_TYPE)
        if info["TriggerPrice"] != 0:
            raise LighterError(C.INVALID_TRIGGER_PRICE)
        if order_type == C.ORDER_TYPE_MARKET and tif != C.TIF_IOC:
            raise LighterError(C.INVALID_TIME_IN_FORCE)
        now = now_ms()
        if tif == C.TIF_IOC:
            if expiry != 0:
                raise LighterError(C.INVALID_EXPIRY)
        elif not now < expiry <= now + C.MAX_ORDER_EXPIRY_PERIOD_MS + 60_000:
            raise LighterError(C.INVALID_EXPIRY)
        if base and (base < market.spec.min_base_int
                     or market.spec.quote_micro(base, price) < market.spec.min_quote_micro):
            raise LighterError(C.INVALID_BASE_OR_QUOTE)
        if client_index and any(order.client_order_index == client_index for order in account.active_orders.values()):
            raise LighterError(C.CLIENT_ORDER_INDEX_EXISTS)
        if order_type == C.ORDER_TYPE_LIMIT:
            self.engine.check_price_band(market, bool(info["IsAsk"]), price)
        order = self.engine.new_order(account, market, client_index, base, price, bool(info["IsAsk"]), order_type,
                                      tif, bool(reduce_only), expiry)
        if not order.reduce_only:
            self.engine.check_margin(account, order)
        return lambda events: self.engine.place(account, order, events)

    def _cancel_order(self, tx: DecodedTx):
        self._market(tx.info["MarketIndex"])
        order = self.engine.find_active(tx.account, tx.info["MarketIndex"], tx.info["Index"])
        return lambda events: self.engine.cancel(tx.account, order, events)

    def _cancel_all(self, tx: DecodedTx):
        tif, when = tx.info["TimeInForce"], tx.info["Time"]
        attributes = tx.info.get("L2TxAttributes") or {}
        market_id = attributes.get(C.ATTR_CANCEL_ALL_MARKET_INDEX)
        if market_id is not None and market_id != C.NIL_MARKET_INDEX:
            self._market(market_id)
        else:
            market_id = None
        account = tx.account
        if tif == C.CANCEL_ALL_IMMEDIATE:
            if when != 0:
                raise LighterError(C.INVALID_CANCEL_ALL_TIME)
            return lambda events: self.engine.cancel_all(account, events, market_id)
        # The dead man's switch. An account holds one scheduled cancel-all (21712 while one is queued, from the
        # venue's error list); abort drops it. Inferred, as neither the SDK nor the docs say: an abort with nothing
        # queued is accepted and does nothing, and an immediate cancel-all leaves a queued one in place. At its time
        # the engine cancels every open order of the account (MatchingEngine.expire_orders).
        if tif == C.CANCEL_ALL_SCHEDULED:
            now = now_ms()
            if (market_id is not None
                    or not now + self.min_cancel_all_period_ms <= when <= now + C.MAX_ORDER_CANCEL_ALL_PERIOD_MS):
                raise LighterError(C.INVALID_CANCEL_ALL_TIME)
            if account.cancel_all_time:
                raise LighterError(C.CANCEL_ALL_QUEUED)
            return lambda events: setattr(account, "cancel_all_time", when)
        if tif == C.CANCEL_ALL_ABORT:
            if when != 0:
                raise LighterError(C.INVALID_CANCEL_ALL_TIME)
            return lambda events: setattr(account, "cancel_all_time", 0)
        raise LighterError(C.INVALID_CANCEL_ALL_TIF)

    def _modify_order(self, tx: DecodedTx):
        info, account = tx.info, tx.account
        market = self._market(info["MarketIndex"])
        base, price = info["BaseAmount"], info["Price"]
        if not 1 <= base <= C.MAX_BASE_AMOUNT:
            raise LighterError(C.INVALID_BASE_AMOUNT)
        if not 1 <= price <= C.MAX_PRICE:
            raise LighterError(C.INVALID_PRICE)
        if info["TriggerPrice"] != 0:
            raise LighterError(C.INVALID_TRIGGER_PRICE)
        order = self.engine.find_active(account, info["MarketIndex"], info["Index"])
        if base < market.spec.min_base_int or market.spec.quote_micro(base, price) < market.spec.min_quote_micro:
            raise LighterError(C.INVALID_BASE_OR_QUOTE)
        if not order.reduce_only:
            probe = replace(order, price=price, remaining_base=base)
            self.engine.check_margin(account, probe, replacing=order)
        return lambda events: self.engine.modify(account, order, base, price, events)

    def _update_leverage(self, tx: DecodedTx):
        info = tx.info
        market = self._market(info["MarketIndex"])
        fraction, mode = info["InitialMarginFraction"], info["MarginMode"]
        if mode not in (0, 1):
            raise LighterError(C.INVALID_MARGIN_MODE)
        if not market.spec.min_initial_margin_fraction <= fraction <= C.MARGIN_FRACTION_TICK:
            raise LighterError(C.INVALID_LEVERAGE)
        self.engine.check_leverage(tx.account, market, fraction)
        return lambda events: self.engine.update_leverage(tx.account, market, fraction, mode, events)
