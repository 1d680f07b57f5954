"""Issue 17, hostile input by schemathesis: every operation of the OpenAPI document against the real
server, as tests/integration/api/test_schemathesis.py does (its document, server fixture and checks,
reused), with each generated request and each 5xx answer counted in the reliability table."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, reject, settings

from tests.integration.api.conftest import ApiServer
from tests.integration.api.test_schemathesis import (  # noqa: F401 - st_server: the fixture
    _auth,
    exchange_down,
    excluded_checks,
    schema,
    st_server,
)
from tests.integration.conftest import threaded_sim  # noqa: F401 - st_server needs it
from tests.reliability.counters import COUNTERS
from tests.reliability.settings import LONG, scaled
from tradewarden.services import tokens

CATEGORY = "hostile input: schemathesis"
# The long run probes every route; the short one the state-changing POST routes (inside `make test`,
# tests/integration/api/test_schemathesis.py already probes every route, uncounted).
PROBED = schema if LONG else schema.include(method="POST")


@PROBED.parametrize()
@settings(max_examples=scaled(3, 80), deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_counted(case: schemathesis.Case[Any], st_server: ApiServer) -> None:  # noqa: F811
    if case.method.upper() == "DELETE" and case.operation.path == "/api/v1/tokens/{token}":
        ours = {v.name.lower() for v in tokens.list_tokens(st_server.app)} | {
            v.id for v in tokens.list_tokens(st_server.app)
        }
        if str((case.path_parameters or {}).get("token", "")).strip().lower() in ours:
            reject()
    COUNTERS.count(CATEGORY, "fuzzed")
    response = case.call(base_url=st_server.url, headers=_auth(st_server))
    # a 5xx is a server fault, except the documented fail-closed 503 when an exchange did not answer
    COUNTERS.count(CATEGORY, "http_5xx", int(response.status_code >= 500 and not exchange_down(response)),
                   why=f"{case.method} {case.path}: {response.status_code}")  # fmt: skip
    case.validate_response(response, excluded_checks=excluded_checks(response))
