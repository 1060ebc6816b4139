"""Errors from talking to the cloud.

Tree (the client raises only these)::

    CloudError                    anything that went wrong talking to the cloud
      CloudAPIError               the cloud answered with an error body
        (code, message, status, request_id; e.g. BackupService.2010;
         retry_after: seconds from a 429's Retry-After, else None)
      CloudTransportError         no usable answer: connect/read failure, reset
        (maybe_sent: False only when the request surely never left, e.g. connect failed)
      CloudAuthError              credentials missing, refused or expired
"""

from __future__ import annotations


class CloudError(Exception):
    pass


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
        super().__init__(f"{code or 'HTTP ' + str(status)}: {message}")
        self.request = request  # "GET https://host/path" (no query), for messages
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after


class CloudTransportError(CloudError):
    def __init__(self, message: str, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class CloudAuthError(CloudError):
    pass
