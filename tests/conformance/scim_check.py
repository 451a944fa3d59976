"""Runs scim2-tester (a third-party SCIM 2.0 conformance checker from PyPI) against a live
server and prints one JSON object per check: {"title", "status", "reason"}.

Usage: scim_check.py <base URL of /scim> <bearer token>
"""

import json
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
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
