"""Runs scim2-tester (python-scim project, PyPI) against a SCIM base URL and fails unless
every check is SUCCESS, save one precisely recognised checker defect.

Usage: compliance.py BASE_URL TOKEN

The defect: scim2-tester 0.5's check_add_attribute PATCHes every attribute of one resource
in turn. It first adds a whole extension (filling its multi-valued attributes), then adds
one value to each multi-valued attribute of that extension and expects to read back only
that value. RFC 7644 §3.5.2.1 says an add to a multi-valued attribute appends ("a new value
is added to the attribute"), which is what muster-server and scim2-models' own PATCH do.
Only extensions with multi-valued attributes expose it (scim2-server's enterprise extension
has none). A result is excused only when the returned list is exactly the earlier values
followed by the added ones; anything else counts as a failure.
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def is_rfc_append(result) -> bool:
    """The checker expected `add` to replace a multi-valued attribute, and the server
    appended exactly the added values, as RFC 7644 §3.5.2.1 requires."""
    data = result.data if isinstance(result.data, dict) else {}
    expected, actual = data.get("expected"), data.get("modify_actual")
    return (
        result.title == "check_add_attribute"
        and "returned unexpected value" in (result.reason or "")
        and isinstance(expected, list)
        and isinstance(actual, list)
        and len(actual) > len(expected) > 0
        and actual[-len(expected):] == expected
    )


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = check_server(SyncSCIMClient(http), raise_exceptions=False)
    passed = [r for r in results if r.status == Status.SUCCESS]
    excused = [r for r in results if r.status != Status.SUCCESS and is_rfc_append(r)]
    failed = [r for r in results if r.status != Status.SUCCESS and not is_rfc_append(r)]
    for result in excused:
        urn = result.data.get("urn")
        print(f"checker defect (RFC 7644 §3.5.2.1 add appends): {urn}")
    for result in failed:
        where = f"[{result.resource_type}] " if getattr(result, "resource_type", None) else ""
        print(f"{result.status.name}: {where}{result.title}: {result.reason}")
    print(f"checker defects excused: {len(excused)}")
    print(f"scim2-tester: {len(passed)} passed, {len(failed)} failed")
    return 0 if results and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
