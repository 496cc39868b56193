"""The REST envelope {status, data, error{code, message}, pagination} and query helpers."""
from typing import Callable, List, Optional, Sequence

from aiohttp import web

from emulator.extended.errors import ExchangeError

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def ok(data=None, pagination: Optional[dict] = None, with_data: bool = True) -> web.Response:
    body = {"status": "OK"}
    if with_data:
        body["data"] = data
    if pagination is not None:
        body["pagination"] = pagination
    return web.json_response(body)


def error(err: ExchangeError) -> web.Response:
    return web.json_response(err.to_json(), status=err.http_status)


def http_error(status: int, message: str, code: Optional[int] = None) -> web.Response:
    return web.json_response({"status": "ERROR", "error": {"code": code or status, "message": message}},
                             status=status)


def query_int(request: web.Request, name: str) -> Optional[int]:
    value = request.query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ExchangeError(1133, f"Invalid {name}")


def query_list(request: web.Request, name: str) -> List[str]:
    return [v for v in request.query.getall(name, []) if v]


def paginate(request: web.Request, items: Sequence, key: Callable) -> tuple:
    """Items newest first; `cursor` continues below the last key of the previous page."""
    cursor = query_int(request, "cursor")
    limit = min(query_int(request, "limit") or DEFAULT_PAGE, MAX_PAGE)
    if cursor is not None:
        items = [i for i in items if key(i) < cursor]
    page = list(items[:limit])
    pagination = {"cursor": key(page[-1]) if page else cursor, "count": len(page)}
    return page, pagination
