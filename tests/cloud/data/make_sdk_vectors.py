"""Generate sdk_signer_vectors.json with the official Huawei Cloud SDK signer.

Run once, by hand, in a throwaway venv (not by the tests):

    python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install huaweicloudsdkcore
    /tmp/sdkvenv/bin/python tests/cloud/data/make_sdk_vectors.py > tests/cloud/data/sdk_signer_vectors.json

Each case records the inputs and the SDK's Authorization header and final URI.
"""

from __future__ import annotations

import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK, SK = "HPUAL7EXAMPLEAK0001", "sk/Example+Secret=Key0123456789abcdefGHIJ"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DATE = "20261120T101500Z"

CASES: list[dict[str, object]] = [
    {
        "name": "get backups, repeated status, times",
        "method": "GET",
        "host": "cbr.cn-north-4.myhuaweicloud.com",
        "path": f"/v3/{PROJECT}/backups",
        "query": [["status", "error"], ["limit", "1000"], ["status", "available"],
                  ["end_time", "2026-11-20T00:00:00Z"], ["offset", "0"]],
        "headers": {"X-Sdk-Date": DATE},
        "body": "",
    },
    {
        "name": "post restore with json body and project header",
        "method": "POST",
        "host": "cbr.ap-southeast-1.myhuaweicloud.com",
        "path": f"/v3/{PROJECT}/backups/a5200268-74a5-4806-acc6-95793ab0228b/restore",
        "query": [],
        "headers": {"X-Sdk-Date": DATE, "Content-Type": "application/json;charset=UTF-8",
                    "X-Project-Id": PROJECT},
        "body": json.dumps({"restore": {"server_id": "s-1", "power_on": False,
                                        "mappings": [{"backup_id": "c-1", "volume_id": "v-1"}]}}),
    },
    {
        "name": "path with spaces, percent and unicode segments",
        "method": "GET",
        "host": "ecs.eu-west-101.myhuaweicloud.eu",
        "path": "/v1/p/cloudservers/web server%2F01/über~name",
        "query": [["name", "web 01"]],
        "headers": {"X-Sdk-Date": DATE},
        "body": "",
    },
    {
        "name": "unicode and reserved characters in query values",
        "method": "GET",
        "host": "ecs.cn-north-4.myhuaweicloud.com",
        "path": f"/v1/{PROJECT}/cloudservers/detail",
        "query": [["tags", "tier=web,env=prod"], ["name", "数据库-01"], ["ids", "['a','b']"],
                  ["empty", ""], ["x", "a+b&c=d/e?f"]],
        "headers": {"X-Sdk-Date": DATE},
        "body": "",
    },
    {
        "name": "underscore header skipped, extra header signed, custom port",
        "method": "PUT",
        "host": "127.0.0.1:8443",
        "path": "/v2/p/cloudvolumes/vol-1",
        "query": [["b", "2"], ["a", "1"], ["a", "0"]],
        "headers": {"X-Sdk-Date": DATE, "TEST_UNDERSCORE": "ignored", "X-Custom-Header": "  padded  ",
                    "Content-Type": "application/json"},
        "body": '{"volume": {"name": "new"}}',
    },
    {
        "name": "non-json content type uses UNSIGNED-PAYLOAD",
        "method": "POST",
        "host": "obs.cn-north-4.myhuaweicloud.com",
        "path": "/upload/",
        "query": [["partNumber", "1"]],
        "headers": {"X-Sdk-Date": DATE, "Content-Type": "application/octet-stream"},
        "body": "raw bytes \u00e9",
    },
    {
        "name": "delete with trailing slash path and no query",
        "method": "DELETE",
        "host": "iam.myhuaweicloud.com",
        "path": "/v3/auth/tokens/",
        "query": [],
        "headers": {"X-Sdk-Date": DATE, "X-Language": "en-us"},
        "body": "",
    },
]


def main() -> None:
    signer = Signer(BasicCredentials(AK, SK, PROJECT))
    out = []
    for case in CASES:
        request = SdkRequest(
            method=case["method"],
            schema="https",
            host=case["host"],
            resource_path=case["path"],
            query_params=[tuple(q) for q in case["query"]],  # type: ignore[attr-defined]
            header_params=dict(case["headers"]),  # type: ignore[call-overload]
            body=case["body"],
        )
        signer.sign(request)
        out.append({**case, "authorization": request.header_params["Authorization"],
                    "uri": request.uri})
    json.dump({"access_key": AK, "secret_key": SK, "project_id": PROJECT, "cases": out},
              sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
