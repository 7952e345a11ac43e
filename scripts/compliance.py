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

Two more limits of the checker meet Muster's account state, which the server computes and
returns read-only in the shop extension (status, invitation, lastSignIn, mfaEnabled,
activeSessions), as docs/api.md describes:
- add/replace of a whole extension compares every field, read-only ones included, with the
  value sent (which leaves them empty). Excused only when the two are equal once the
  schema's read-only fields and the extension's echo of its own `schemas` are set aside.
- remove of a whole extension expects nothing back, but the read-only state remains.
  Excused only when every writable field came back empty.
And one design decision: SCIM `active` is Muster's account status seen as a boolean
(RFC 7643 §4.1.1 leaves its meaning to the provider), so it is always present; removing it
changes nothing. Excused only for `active`, and only when a boolean came back.

One domain rule: the field licence is for the technician role (docs/domain.md). The
checker fills the shop `licence` and `role` with random choices among their canonical
values, so any check that creates or edits a user may happen on a field licence beside
another role, which the server refuses with 400 `invalidValue` saying so. Such a check
did not test what it names, so it is run again (its own tags, its resource type only) until
its random user keeps the rule, at most RETRIES times; its new results replace the refused
ones. What is still refused after that is excused only for an add or replace of `licence`
or `role` itself (the checker's value is the whole test there).
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from pydantic import BaseModel
from scim2_models import Mutability
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


def writable(value):
    """A model's fields without its read-only ones and without `schemas`."""
    model = type(value)
    return {
        name: getattr(value, name)
        for name in model.model_fields
        if name != "schemas" and model.get_field_annotation(name, Mutability) != Mutability.read_only
    }


def is_server_state(result) -> bool:
    """The difference the checker saw is only read-only state the server computes."""
    data = result.data if isinstance(result.data, dict) else {}
    reason = result.reason or ""
    if result.title in ("check_add_attribute", "check_replace_attribute") and "unexpected value" in reason:
        expected, actual = data.get("expected"), data.get("modify_actual")
        return (
            isinstance(expected, BaseModel)
            and type(expected) is type(actual)
            and writable(expected) == writable(actual)
        )
    if result.title == "check_remove_attribute" and "did not remove" in reason:
        actual = data.get("modify_actual")
        if data.get("urn") == "active":
            return isinstance(actual, bool)
        return isinstance(actual, BaseModel) and all(v in (None, []) for v in writable(actual).values())
    return False


RETRIES = 5
# The checker's random pick breaks the rule for about one user in six, so a few checks
# need running again; many more would mean the server refuses users who keep the rule.
MOST_RUN_AGAIN = 20


def refused_by_licence_rule(result) -> bool:
    """The server refused the checker's random field licence beside another role."""
    return result.status != Status.SUCCESS and "licence is for the technician role" in (result.reason or "")


def is_licence_rule(result) -> bool:
    """Refused by the rule on a check that sets `licence` or `role` itself."""
    data = result.data if isinstance(result.data, dict) else {}
    urn = str(data.get("urn") or "")
    return (
        result.title in ("check_add_attribute", "check_replace_attribute")
        and urn.endswith((":licence", ":role"))
        and refused_by_licence_rule(result)
    )


def urn(result):
    data = result.data if isinstance(result.data, dict) else {}
    return data.get("urn")


def same_check(result, refused) -> bool:
    """The same check on the same resource type; on the same attribute when the refused
    one named it (a check refused before its first attribute reports it as a whole)."""
    return (
        result.resource_type == refused.resource_type
        and result.title == refused.title
        and (urn(refused) is None or urn(result) == urn(refused))
    )


def run_again(client, refused):
    """The results of the refused check, run again until its random values keep the rule."""
    for attempt in range(1, RETRIES + 1):
        again = [
            r
            for r in check_server(
                client,
                raise_exceptions=False,
                include_tags=set(refused.tags) or None,
                resource_types=[refused.resource_type] if refused.resource_type else None,
            )
            if same_check(r, refused)
        ]
        if again and not any(refused_by_licence_rule(r) and not is_licence_rule(r) for r in again):
            print(f"run again ({attempt}×) with a user keeping the licence rule: {refused.title} {urn(refused) or ''}")
            return again
    return [refused]


def without_random_rule_breaks(client, results):
    refused = [r for r in results if refused_by_licence_rule(r)]
    if len(refused) > MOST_RUN_AGAIN:
        print(f"{len(refused)} checks were refused for the licence rule: the server refuses more than random picks explain")
        return results
    kept = []
    for result in results:
        kept.extend(run_again(client, result) if refused_by_licence_rule(result) else [result])
    return kept


def excused(result) -> bool:
    return is_rfc_append(result) or is_server_state(result) or is_licence_rule(result)


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = without_random_rule_breaks(client, check_server(client, raise_exceptions=False))
    passed = [r for r in results if r.status == Status.SUCCESS]
    excused_results = [r for r in results if r.status != Status.SUCCESS and excused(r)]
    failed = [r for r in results if r.status != Status.SUCCESS and not excused(r)]
    for result in excused_results:
        why = (
            "add appends (RFC 7644 §3.5.2.1)"
            if is_rfc_append(result)
            else "the field licence is for technicians"
            if is_licence_rule(result)
            else "server-computed state"
        )
        print(f"excused, {why}: {result.title} {result.data.get('urn')}")
    for result in failed:
        where = f"[{result.resource_type}] " if getattr(result, "resource_type", None) else ""
        print(f"{result.status.name}: {where}{result.title}: {result.reason}")
    print(f"checker limits excused: {len(excused_results)}")
    print(f"scim2-tester: {len(passed)} passed, {len(failed)} failed")
    return 0 if results and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
