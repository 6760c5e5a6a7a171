"""The Customer Service Portal's API (ASGI, Starlette): work orders, and a case's related records.

``GET /portal/v1/work-orders?user=<sys_id>[&limit=…][&cursor=…]`` → ``{"result": [...]}``
``GET /portal/v1/work-orders/<sys_id>?user=<sys_id>`` → ``{"result": {..., "tasks": [...]}}``
``GET /portal/v1/cases/<sys_id>/related-records?user=<sys_id>`` → ``{"result": [{"sys_id",
"table", "number", "state", "short_description"}, ...]}`` (incident, problem, change, then the
requests by number; records the bridge has not seen yet are not listed)

Status codes: 401 without the deployment's bearer token (constant-time comparison); 503 when
the deployment has no token (the portal API is disabled); 400 for a malformed ``user``,
``limit`` or ``cursor``; 404, byte for byte the same, for a work order or case that does not
exist, that the user may not see, or whose sys_id is malformed (never sent to the store); 400 for
a parameter given twice (``?user=A&user=B`` names no one user); 500, as JSON, for anything the
portal did not foresee (a store that fails), logged as one line: the error's class and where it
was raised, never a traceback nor the request's values. Lists
are ordered by (number, sys_id); when more rows follow, the response carries ``X-Next-Cursor``
and a ``Link: <…>; rel="next"`` header, so the body keeps the contract's shape. Reads run in one
transaction, under the PostgreSQL portal role with row-level security when the store is
PostgreSQL. Pass a reader engine (no write lock).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

import structlog
from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.portal.paging import BadCursor, DetailParams, ListParams, decode_cursor, encode_cursor, is_sys_id
from bridge.visibility import (
    DEFAULT_PORTAL_ROLE,
    as_portal_user,
    case_related_records,
    visible_work_orders,
    work_order_detail,
)

LIST_PATH = "/portal/v1/work-orders"
RELATED_RECORDS_PATH = "/portal/v1/cases/{sys_id}/related-records"
NO_STORE = {"Cache-Control": "no-store"}

log = structlog.get_logger("bridge.portal")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, headers={**NO_STORE, **(headers or {})})


def _not_found() -> JSONResponse:
    return _error(404, "Not found")


def create_portal_app(engine: AsyncEngine, token: SecretStr, *, portal_role: str = DEFAULT_PORTAL_ROLE) -> Starlette:
    """The portal API over ``engine``'s visibility index, guarded by ``token``."""
    expected = token.get_secret_value().encode()

    def refused(request: Request) -> Response | None:
        if not expected:
            return _error(503, "Portal API disabled")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            return _error(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
        return None

    def parse(model: type[BaseModel], request: Request) -> BaseModel | Response:
        query = request.query_params
        repeated = sorted({key for key in query if len(query.getlist(key)) > 1})
        if repeated:
            return _error(400, f"Invalid parameter: {', '.join(repeated)} (given more than once)")
        try:
            return model.model_validate(dict(request.query_params))
        except ValidationError as error:
            fields = sorted({str(item["loc"][0]) for item in error.errors() if item["loc"]})
            return _error(400, f"Invalid parameter: {', '.join(fields)}")

    async def list_work_orders(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        params = parse(ListParams, request)
        if isinstance(params, Response):
            return params
        assert isinstance(params, ListParams)
        try:
            cursor = decode_cursor(params.cursor) if params.cursor is not None else None
        except BadCursor:
            return _error(400, "Invalid parameter: cursor")
        async with engine.connect() as conn, conn.begin():
            await as_portal_user(conn, params.user, portal_role)
            page = await visible_work_orders(conn, params.user, limit=params.limit, cursor=cursor)
        headers = dict(NO_STORE)
        if page.next_cursor is not None:
            next_token = encode_cursor(page.next_cursor)
            query = urlencode({"user": params.user, "limit": params.limit, "cursor": next_token})
            headers |= {"X-Next-Cursor": next_token, "Link": f'<{LIST_PATH}?{query}>; rel="next"'}
        return JSONResponse({"result": page.rows}, headers=headers)

    async def get_work_order(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        params = parse(DetailParams, request)
        if isinstance(params, Response):
            return params
        assert isinstance(params, DetailParams)
        wo_sys_id = request.path_params["sys_id"]
        if not is_sys_id(wo_sys_id):
            return _not_found()
        async with engine.connect() as conn, conn.begin():
            await as_portal_user(conn, params.user, portal_role)
            detail = await work_order_detail(conn, params.user, wo_sys_id)
        if detail is None:
            return _not_found()
        return JSONResponse({"result": detail}, headers=NO_STORE)

    async def get_related_records(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        params = parse(DetailParams, request)
        if isinstance(params, Response):
            return params
        assert isinstance(params, DetailParams)
        case_sys_id = request.path_params["sys_id"]
        if not is_sys_id(case_sys_id):
            return _not_found()
        async with engine.connect() as conn, conn.begin():
            await as_portal_user(conn, params.user, portal_role)
            related = await case_related_records(conn, params.user, case_sys_id)
        if related is None:
            return _not_found()
        return JSONResponse({"result": related}, headers=NO_STORE)

    return Starlette(
        routes=[
            Route(LIST_PATH, list_work_orders, methods=["GET"]),
            Route(LIST_PATH + "/{sys_id}", get_work_order, methods=["GET"]),
            Route(RELATED_RECORDS_PATH, get_related_records, methods=["GET"]),
        ],
        middleware=[Middleware(_ContainErrors)],
    )


class _ContainErrors:
    """An error no handler foresaw is answered here (500, JSON) and logged as one structured
    line. Starlette's own answer would raise the error again for the server to log, and uvicorn
    logs it with a plain-text traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, tracked)
        except Exception as error:  # noqa: BLE001 - answered and logged here, once
            route: Any = scope.get("route")
            log.error("portal.request_failed", exc_info=error, route=getattr(route, "path", None))
            if not started and scope["type"] == "http":
                await _error(500, "Internal error")(scope, receive, send)
