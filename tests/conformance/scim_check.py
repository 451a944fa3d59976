"""Runs scim2-tester (a third-party SCIM 2.0 conformance checker from PyPI) against a live
server and prints one JSON object per check: {"title", "status", "reason"}.

Usage: scim_check.py <base URL of /scim> <bearer token>
"""

import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def scim_media_type(request: httpx2.Request) -> None:
    """The client sends JSON bodies as application/json; this server, like INDIGO IAM,
    takes application/scim+json on /scim (docs/scim.md)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        request.headers["content-type"] = "application/scim+json"


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        event_hooks={"request": [scim_media_type]},
    )
    client = SyncSCIMClient(http)
    results = check_server(client, raise_exceptions=False)
    for r in results:
        print(
            json.dumps(
                {
                    "title": r.title,
                    "status": r.status.name,
                    "reason": r.reason,
                    "resource": getattr(r, "resource_type", None),
                }
            )
        )


if __name__ == "__main__":
    main()
