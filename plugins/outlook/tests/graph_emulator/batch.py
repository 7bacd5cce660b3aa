"""JSON batching (POST /v1.0/$batch), as the json-batching guide describes it.

Why a mixin: the batch rules (at most `batch_limit` requests, unique ids, dependsOn ordering
and 424 Failed Dependency, the outer Authorization applying to every inner request, inner
faults answered inside a 200) are separate from routing; every inner request goes back
through GraphEmulator.handle, so it is logged, faulted, authorised and routed the same way.
"""

from __future__ import annotations

import json
from typing import Any

from .resources import ApiError, Json, Reply, ok

PREFIX = "/v1.0/"


class BatchOps:
    """The $batch endpoint; GraphEmulator inherits it and provides `handle`."""

    batch_limit: int

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes, in_batch: bool = False
    ) -> Reply | None:
        raise NotImplementedError

    def _batch(self, body: Any, auth: str) -> Reply | None:
        """JSON batching: validate the whole batch first, then run it respecting dependsOn."""
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > self.batch_limit:
            raise ApiError(
                400,
                "BadRequest",
                f"Number of requests in a batch ({len(requests)}) exceeds {self.batch_limit}.",
            )
        by_id: dict[str, Json] = {}
        for req in requests:
            if not isinstance(req, dict) or not all(req.get(k) for k in ("id", "method", "url")):
                raise ApiError(400, "BadRequest", "Every batch request needs id, method and url.")
            if str(req["id"]).lower() in by_id:
                raise ApiError(400, "BadRequest", f"Duplicate batch request id '{req['id']}'.")
            by_id[str(req["id"]).lower()] = req
        order: list[Json] = []
        pending = list(requests)
        while pending:
            done = {str(r["id"]).lower() for r in order}
            ready = next(
                (
                    r
                    for r in pending
                    if all(str(d).lower() in done for d in r.get("dependsOn") or [])
                ),
                None,
            )
            if ready is None:
                raise ApiError(400, "BadRequest", "dependsOn names an unknown request or a cycle.")
            order.append(ready)
            pending.remove(ready)
        statuses: dict[str, int] = {}
        responses: list[Json] = []
        for req in order:
            rid = str(req["id"])
            if any(statuses[str(d).lower()] >= 400 for d in req.get("dependsOn") or []):
                failed = ApiError(424, "FailedDependency")
                statuses[rid.lower()] = 424
                responses.append({"id": rid, "status": 424, "body": failed.body()})
                continue
            headers = {
                str(k): str(v)
                for k, v in (req.get("headers") or {}).items()
                if str(k).lower() != "authorization"
            }
            headers["Authorization"] = auth  # the outer request's authorization applies
            inner = req.get("body")
            raw = b"" if inner is None else json.dumps(inner).encode()
            url = str(req["url"])
            url = url.split("/v1.0", 1)[1] if url.startswith("http") else url
            reply = self.handle(
                str(req["method"]).upper(), PREFIX + url.lstrip("/"), headers, raw, True
            )
            if reply is None:
                return None  # a dropped inner request loses the whole batch reply
            status, rheaders, data = reply
            statuses[rid.lower()] = status
            entry: Json = {"id": rid, "status": status, "headers": rheaders}
            if data:
                entry["body"] = json.loads(data)
            responses.append(entry)
        responses.reverse()  # json-batching: responses may come back in any order
        return ok({"responses": responses})
