"""One error root (planner.errors.PlannerError): user and cloud errors carry a message and a
hint, and the CLI prints ``error: summary()`` / ``hint: hint`` for both."""

from __future__ import annotations

from planner.cloud.errors import CloudAPIError, CloudAuthError, CloudError, CloudTransportError
from planner.errors import PlannerError, StalePlanError, UserError


def test_cloud_errors_share_the_root_but_are_not_user_errors() -> None:
    for exc in (CloudAPIError(404, "X", "y"), CloudTransportError("reset"), CloudAuthError("no key")):
        assert isinstance(exc, PlannerError) and isinstance(exc, CloudError)
        assert not isinstance(exc, UserError)  # `except UserError` never swallows a cloud error
    assert isinstance(StalePlanError("m"), PlannerError)


def test_summary_and_hint() -> None:
    api = CloudAPIError(403, "BackupService.0001", "forbidden", request="GET https://cbr/v3/p/backups")
    assert api.summary() == "GET https://cbr/v3/p/backups: BackupService.0001: forbidden"
    assert api.message == "forbidden"  # the cloud's own words, as apply records them
    assert api.hint.startswith("the credentials lack a permission")
    assert CloudAPIError(400, "", "bad").summary() == "HTTP 400: bad"
    assert CloudAPIError(400, "", "bad").hint == ""
    assert CloudAPIError(503, "", "down").hint == "the cloud is busy or failing; run the command again later"
    assert CloudTransportError("connection reset").hint.startswith("check the network and the endpoint")
    assert CloudAuthError("set HW_ACCESS_KEY").hint == ""
    user = UserError("no such file", hint="check the path")
    assert (user.summary(), user.hint) == ("no such file", "check the path")
