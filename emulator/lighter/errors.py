"""The venue's error envelope: HTTP status plus {"code": ..., "message": ...}."""
from typing import Tuple


class LighterError(Exception):
    def __init__(self, code_message: Tuple[int, str], http_status: int = 400, detail: str = ""):
        code, message = code_message
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}
