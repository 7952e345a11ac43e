"""The scim2-client side of the fetch benchmark (crates/core/benches/fetch.rs).

Fetches every user of a SCIM base URL with scim2-client (python-scim, PyPI) over its httpx2
engine, the way a scim2-client user would: discover the server's schemas (so the shop
extension is typed), then query /Users page after page, each page parsed and validated
into scim2-models objects and kept. Discovery is timed separately from the walk.

Usage: scim2_client_fetch.py BASE_URL COUNT TOTAL   (the token comes in BENCH_TOKEN)
Prints one JSON line: {"discover_seconds", "fetch_seconds", "users", "pages", "peak_kib"}.
"""

import json
import os
import resource
import sys
import time

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import SearchRequest


def main() -> None:
    base_url, count, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    token = os.environ["BENCH_TOKEN"]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    scim = SyncSCIMClient(http)

    started = time.perf_counter()
    scim.discover()
    discovered = time.perf_counter()

    # Kept, like muster-core's list_all keeps them, so the peak memory compares too.
    users = []
    pages = 0
    for start in range(1, total + 1, count):
        page = scim.query("User", query_parameters=SearchRequest(start_index=start, count=count))
        users.extend(page.resources or [])
        pages += 1
    finished = time.perf_counter()

    print(
        json.dumps(
            {
                "discover_seconds": discovered - started,
                "fetch_seconds": finished - discovered,
                "users": len(users),
                "pages": pages,
                # Linux reports ru_maxrss in KiB.
                "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


if __name__ == "__main__":
    main()
