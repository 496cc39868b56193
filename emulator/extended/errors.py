"""Exchange error codes (messages as the exchange words them) and the exception that carries them to REST."""
from typing import Optional

MESSAGES = {
    1001: "Market not found.",
    1002: "Market is disabled.",
    1006: "Internal Server Error",
    1014: "Market is in reduce only mode, non-reduce only orders are not allowed.",
    1049: "Leverage below min leverage.",
    1050: "Leverage exceeds max leverage.",
    10501: "Max position value exceeded for new leverage.",
    1052: "Insufficient margin for new leverage.",
    1053: "Leverage has invalid precision.",
    1100: "Invalid Starknet public key.",
    1101: "Invalid Starknet signature.",
    1102: "Invalid Starknet vault.",
    1120: "Order quantity less than min trade size",
    1121: "Invalid quantity due to the wrong size increment (Minimum Change in Trade Size)",
    1122: "Order value exceeds max order value",
    1124: "Invalid price due to wrong price movement (Minimum Price Change)",
    1126: "Max open orders number exceeded, currently 200 orders per market",
    1127: "Max position value exceeded (Margin schedule)",
    1128: "Trading fees are invalid",
    1130: "Order price is missing",
    1132: "Order type is not allowed",
    1133: "Invalid order parameters",
    1134: "Duplicate Order.",
    1135: "Order expiration date must be within 90 days for the Mainnet, 28 days for the Testnet.",
    1136: "Reduce-only order size exceeds open position size.",
    1137: "Position is missing for a reduce-only order.",
    1138: "Position is the same side as a reduce-only order.",
    1139: "Market order must have time in force IOC.",
    1140: "New order cost exceeds available balance",
    1141: "Invalid price value.",
    1142: "Edit order not found.",
}

# HTTP-level errors have no documented exchange code; these bodies keep the usual envelope [inferred].
UNAUTHORIZED = (401, "Unauthorized")
RATE_LIMITED = (429, "Too many requests")
NOT_FOUND = (404, "Not found")
# The word code of a 404 when Faults.string_error_codes is on (issue 10: {"code": "NOT_FOUND"}).
NOT_FOUND_WORD = "NOT_FOUND"


class ExchangeError(Exception):
    def __init__(self, code: int, message: Optional[str] = None, http_status: int = 400,
                 debug_info: Optional[str] = None):
        super().__init__(message or MESSAGES.get(code, "Error"))
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        self.http_status = http_status
        self.debug_info = debug_info

    def to_json(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.debug_info:
            error["debugInfo"] = self.debug_info
        return {"status": "ERROR", "error": error}
