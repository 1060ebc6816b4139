"""Errors from talking to the cloud.

Tree (the client raises only these)::

    CloudError                    anything that went wrong talking to the cloud
      CloudAPIError               the cloud answered with an error body
        (code, message, status, request_id; e.g. BackupService.2010)
      CloudTransportError         no usable answer: connect/read failure, reset
      CloudAuthError              credentials missing, refused or expired
"""

from __future__ import annotations


class CloudError(Exception):
    pass


class CloudAPIError(CloudError):
    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code or 'HTTP ' + str(status)}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


class CloudTransportError(CloudError):
    pass


class CloudAuthError(CloudError):
    pass
