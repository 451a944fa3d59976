"""An example site policy written in Python and built with componentize-py.

The site's rules:
- accounts named in the setting `readonly_accounts` (comma-separated UUIDs) cannot be
  changed by anyone through the attribute, label and end-time endpoints;
- ROLE_ADMIN may do everything else;
- anyone may read their own attributes, labels and authorities, and their own SCIM user;
- everything else is denied.

Build it (see docs/plugins.md):
    componentize-py -d wit -w iam:plugin/policy@0.1.0 componentize app \
        -p guest/examples/python-policy -o python-policy.wasm
"""

from wit_world import exports
from wit_world.exports.authorizer import Decision_Allow, Decision_Deny
from wit_world.imports import config, log, types

# Operations that change one account, carrying its UUID as `value`.
CHANGES = (
    types.Operation_SetAccountAttribute,
    types.Operation_DeleteAccountAttribute,
    types.Operation_SetAccountLabel,
    types.Operation_DeleteAccountLabel,
    types.Operation_SetEndTime,
)

# Operations that read one account, carrying its UUID as `value`.
READS = (
    types.Operation_GetAccountAttributes,
    types.Operation_GetAccountLabels,
)

# Operations on the caller's own data.
OWN = (
    types.Operation_GetOwnAuthorities,
    types.Operation_GetMe,
)


def readonly_accounts():
    setting = config.get("readonly_accounts") or ""
    return {uuid.strip() for uuid in setting.split(",") if uuid.strip()}


class Authorizer(exports.Authorizer):
    def authorize(self, caller: types.Principal, op: types.Operation):
        if isinstance(op, CHANGES) and op.value in readonly_accounts():
            log.write(log.Level.WARN, f"refused a change to read-only account {op.value}")
            return Decision_Deny(f"account {op.value} is read-only at this site")
        if "ROLE_ADMIN" in caller.authorities:
            return Decision_Allow()
        if isinstance(op, READS) and caller.account_id == op.value:
            return Decision_Allow()
        if isinstance(op, OWN) and caller.account_id is not None:
            return Decision_Allow()
        return Decision_Deny("not allowed by the site policy")
