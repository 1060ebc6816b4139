"""Errors from talking to the cloud.

Tree (the client raises only these; ``CloudError`` is a ``planner.errors.PlannerError``,
so a command that cannot recover from one reports ``error: <summary()>`` and its
``hint``, exit 1)::

    CloudError                    anything that went wrong talking to the cloud
      CloudAPIError               the cloud answered with an error body
        (code, message, status, request_id; e.g. BackupService.2010;
         retry_after: seconds from a 429's Retry-After, else None)
      CloudTransportError         no usable answer: connect/read failure, reset
        (maybe_sent: False only when the request surely never left, e.g. connect failed)
      CloudAuthError              credentials missing, refused or expired

The hint says what to do when the error ends a command; restores that fail are
reported per restore by apply instead.
"""

from __future__ import annotations

from planner.errors import PlannerError

_NETWORK_HINT = (
    "check the network and the endpoint (HW_ENDPOINT, or the region's "
    "https://{service}.{region}.myhuaweicloud.com); running the command again is safe"
)


class CloudError(PlannerError):
    request = ""  # "GET https://host/path" (no query) when known, for messages

    def summary(self) -> str:
        return f"{self.request}: {self}" if self.request else str(self)


def _api_hint(status: int) -> str:
    if status == 403:
        return "the credentials lack a permission this command needs (CBR, ECS and EVS read; CBR restore for apply)"
    if status == 404:
        return (
            "check HW_PROJECT_ID and the region: the cloud does not know this path in that project"
        )
    if status == 429 or status >= 500:
        return "the cloud is busy or failing; run the command again later"
    return ""


class CloudAPIError(CloudError):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str = "",
        retry_after: float | None = None,
        request: str = "",
    ) -> None:
        super().__init__(f"{code or 'HTTP ' + str(status)}: {message}", hint=_api_hint(status))
        self.request = request
        self.status = status
        self.code = code
        self.message = message  # the cloud's own words (str(self) adds the code)
        self.request_id = request_id
        self.retry_after = retry_after


class CloudTransportError(CloudError):
    def __init__(self, message: str, maybe_sent: bool = True) -> None:
        super().__init__(message, hint=_NETWORK_HINT)
        self.maybe_sent = maybe_sent


class CloudAuthError(CloudError):
    pass  # its message already says which variables to check
