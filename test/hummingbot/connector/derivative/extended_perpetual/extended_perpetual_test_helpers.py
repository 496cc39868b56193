"""Shared test material: the reference payloads, a test Stark key pair, market entries and an independent check of
an order's Stark signature (the x10 SDK's own settlement hash + fast_stark_crypto.verify)."""
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict

from fast_stark_crypto import get_public_key, verify
from x10.core.client_config import StarknetDomain
from x10.models.market import MarketModel
from x10.models.order import OrderSide
from x10.signing.order_object_settlement import SettlementDataCtx, create_order_settlement_data

from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from test.reference_payloads import PAYLOADS, payload_objects  # noqa: F401 (re-exported)

API_KEY = "5c0ffee5" * 4
STARK_PRIVATE_KEY_INT = 0x3C1E9550E66958296D11B60F8E8E7A7AD990D07FA65D5F7652C4A6C87D4E3CC
STARK_PRIVATE_KEY = hex(STARK_PRIVATE_KEY_INT)
STARK_PUBLIC_KEY = hex(get_public_key(STARK_PRIVATE_KEY_INT))
VAULT = 10002


def market_entry(name: str, base: str, quote: str, min_order_size: str = "0.0001", size_step: str = "0.00001",
                 tick: str = "1", mark_price: str = "77259", status: str = "ACTIVE", max_leverage: str = "50.00",
                 synthetic_resolution: int = 1_000_000) -> Dict[str, Any]:
    """An /info/markets entry shaped like the live capture (extended_10) with the newer SDK model's fields."""
    entry = json.loads(json.dumps(payload_objects("extended_10_markets.txt")[0]["data"][0]))
    entry.update({"name": name, "uiName": name, "assetName": base, "collateralAssetName": quote, "status": status,
                  "type": "PERPETUAL", "isRfq": False, "isOffHours": False, "tradingHours": "CONTINUOUS"})
    entry["tradingConfig"].update({"minOrderSize": min_order_size, "minOrderSizeChange": size_step,
                                   "minPriceChange": tick, "maxLeverage": max_leverage})
    entry["marketStats"]["markPrice"] = mark_price
    entry["l2Config"]["syntheticResolution"] = synthetic_resolution
    return entry


def sdk_market_model(entry: Dict[str, Any]) -> MarketModel:
    """The x10 SDK's own reading of a market entry (independent of the connector's)."""
    return MarketModel.model_validate(entry)


class _HashCapture:
    def __init__(self):
        self.msg_hash = None

    def __call__(self, msg_hash: int):
        self.msg_hash = msg_hash
        return 0, 0


def order_signature_valid(body: Dict[str, Any], market: MarketModel, public_key: str, vault: int,
                          domain: StarknetDomain) -> bool:
    """Recomputes the order's Stark message hash from the posted fields with the SDK's settlement code and verifies
    the posted signature against `public_key`, as the exchange does."""
    capture = _HashCapture()
    settlement = body["settlement"]
    ctx = SettlementDataCtx(
        market=market, taker_fee=Decimal(body["fee"]), builder_fee=None, nonce=int(Decimal(body["nonce"])),
        collateral_position_id=vault,
        expire_time=datetime.fromtimestamp(body["expiryEpochMillis"] / 1000, tz=timezone.utc),
        signer=capture, public_key=int(public_key, 16), starknet_domain=domain)
    create_order_settlement_data(side=OrderSide(body["side"]), synthetic_amount=Decimal(body["qty"]),
                                 price=Decimal(body["price"]), ctx=ctx)
    return (int(settlement["starkKey"], 16) == int(public_key, 16)
            and int(Decimal(settlement["collateralPosition"])) == vault
            and verify(public_key=int(public_key, 16), msg_hash=capture.msg_hash,
                       r=int(settlement["signature"]["r"], 16), s=int(settlement["signature"]["s"], 16)))


class IsolatedConnections:
    """Hummingbot's ConnectionsFactory is a process-wide singleton whose aiohttp session belongs to the event loop
    that made it: each test starts without one (nor a mocked stream session left by another test) and closes its
    own."""

    async def asyncSetUp(self):
        factory = ConnectionsFactory()
        factory._shared_client = None
        factory._ws_independent_session = None
        await super().asyncSetUp()

    async def asyncTearDown(self):
        await super().asyncTearDown()
        await ConnectionsFactory().close()
