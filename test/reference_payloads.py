"""The wire payloads the tests check against, captured or documented, kept in test/fixtures (sources in its
README.md)."""
import json
from pathlib import Path
from typing import Any, List

PAYLOADS = Path(__file__).resolve().parent / "fixtures"


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
