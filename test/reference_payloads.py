"""The project's ground-truth wire payloads (shared/reference/payloads), which live in shared/ beside the repository
(CI clones the repository next to it). REFERENCE_PAYLOADS_DIR points elsewhere."""
import json
import os
from pathlib import Path
from typing import Any, List

PAYLOADS = Path(os.environ.get("REFERENCE_PAYLOADS_DIR")
                or Path(__file__).resolve().parents[2] / "shared" / "reference" / "payloads")


def payload_objects(name: str) -> List[Any]:
    """Every JSON value that starts a line of a payload file (comment lines start with '#'), in file order."""
    text = (PAYLOADS / name).read_text()
    decoder = json.JSONDecoder()
    objects = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("{"):
            try:
                value, _ = decoder.raw_decode(text, offset)
                objects.append(value)
            except json.JSONDecodeError:
                pass  # a line inside an object already read
        offset += len(line)
    return objects
