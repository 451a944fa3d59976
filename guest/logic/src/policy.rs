//! The two built-in policies of docs/api.md §2:
//! - `roles` (default): INDIGO IAM's documented rules, where "requires ROLE_X" is read from
//!   the caller's authorities and the IAM admin scopes also grant access;
//! - `strict`: INDIGO IAM 1.12's rules for bearer tokens, where roles count only where IAM
//!   honours them for tokens (self, manager of the group, ROLE_USER) and everything else
//!   needs the scope.

use crate::types::{Operation, Principal};

/// Scope names used by the rules.
pub mod scope {
    pub const ADMIN_READ: &str = "iam:admin.read";
    pub const ADMIN_WRITE: &str = "iam:admin.write";
    pub const SCIM_READ: &str = "scim:read";
    pub const SCIM_WRITE: &str = "scim:write";
}

/// Authority names used by the rules.
pub mod role {
    pub const ADMIN: &str = "ROLE_ADMIN";
    pub const READER: &str = "ROLE_READER";
    pub const USER: &str = "ROLE_USER";
    pub const GM: &str = "ROLE_GM";
}

/// What the caller holds, with the questions the rules ask of it.
pub struct Caller<'a>(pub &'a Principal);

impl Caller<'_> {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.0.authorities.iter().any(|a| a == role)
    }

    /// `ROLE_GM` alone: manager of any group (IAM's substring rule).
    pub fn is_any_group_manager(&self) -> bool {
        self.0
            .authorities
            .iter()
            .any(|a| a == role::GM || a.starts_with("ROLE_GM:"))
    }

    /// `ROLE_GM of g`: exactly the authority `ROLE_GM:<g>`.
    pub fn manages(&self, group: &str) -> bool {
        self.0
            .authorities
            .iter()
            .any(|a| a.strip_prefix("ROLE_GM:") == Some(group))
    }

    /// The token's account is `account`.
    pub fn is_self(&self, account: &str) -> bool {
        self.0.account_id.as_deref() == Some(account)
    }

    fn admin(&self) -> bool {
        self.has_role(role::ADMIN)
    }

    fn reader(&self) -> bool {
        self.has_role(role::READER)
    }
}

/// Decides `op` for `caller` under the `roles` policy: `Ok` allows, `Err` carries the
/// reason for the log.
pub fn authorize_roles(caller: &Principal, op: &Operation) -> Result<(), String> {
    let c = Caller(caller);
    let allowed = match op {
        Operation::GetAccountAttributes(account) | Operation::GetAccountLabels(account) => {
            c.has_scope(scope::ADMIN_READ)
                || c.is_self(account)
                || c.admin()
                || c.reader()
                || c.is_any_group_manager()
        }
        Operation::GetAccountAuthorities(_) => {
            c.has_scope(scope::ADMIN_READ) || c.admin() || c.reader() || c.is_any_group_manager()
        }
        Operation::SetAccountAttribute(_)
        | Operation::DeleteAccountAttribute(_)
        | Operation::SetAccountLabel(_)
        | Operation::DeleteAccountLabel(_)
        | Operation::AddAccountAuthority(_)
        | Operation::RemoveAccountAuthority(_)
        | Operation::SetEndTime(_) => c.has_scope(scope::ADMIN_WRITE) || c.admin(),
        Operation::GetOwnAuthorities | Operation::SetProxyCertificate => c.has_role(role::USER),
        Operation::AddGroupMember(ag) | Operation::RemoveGroupMember(ag) => {
            c.has_scope(scope::ADMIN_WRITE) || c.admin() || c.manages(&ag.group)
        }
        Operation::GetManagedGroups(account) => {
            c.has_scope(scope::ADMIN_READ) || c.is_self(account) || c.admin()
        }
        Operation::CreateIamGroup => c.has_scope(scope::ADMIN_WRITE) || c.admin(),
        Operation::UpdateIamGroup(group) => {
            c.has_scope(scope::ADMIN_WRITE) || c.admin() || c.manages(group)
        }
        Operation::AddGroupManager(_) | Operation::RemoveGroupManager(_) => {
            c.has_scope(scope::ADMIN_WRITE) || c.admin()
        }
        Operation::GetGroupManagers(group) => {
            c.has_scope(scope::ADMIN_READ) || c.admin() || c.reader() || c.manages(group)
        }
        Operation::ListUsers | Operation::ListGroups => {
            c.has_scope(scope::SCIM_READ) || c.admin() || c.reader()
        }
        Operation::FindAccounts(_) | Operation::ListClients | Operation::GetClient(_) => {
            c.has_scope(scope::ADMIN_READ) || c.admin()
        }
        Operation::CreateClient
        | Operation::DeleteClient(_)
        | Operation::AddClientOwner(_)
        | Operation::RemoveClientOwner(_)
        | Operation::EnableClient(_)
        | Operation::DisableClient(_)
        | Operation::RotateClientSecret(_) => c.has_scope(scope::ADMIN_WRITE) || c.admin(),
        Operation::GetOwnClients => c.has_role(role::USER),
        Operation::SearchAccounts => {
            c.has_scope(scope::ADMIN_READ)
                || c.has_scope(scope::SCIM_READ)
                || c.admin()
                || c.reader()
                || c.is_any_group_manager()
        }
        Operation::SearchGroups => {
            c.has_role(role::USER)
                || c.has_scope(scope::ADMIN_READ)
                || c.has_scope(scope::SCIM_READ)
        }
        Operation::GetUser(_) => {
            c.has_scope(scope::SCIM_READ) || c.admin() || c.reader() || c.is_any_group_manager()
        }
        Operation::CreateUser
        | Operation::ReplaceUser(_)
        | Operation::PatchUser(_)
        | Operation::DeleteUser(_)
        | Operation::CreateGroup
        | Operation::ReplaceGroup(_) => c.has_scope(scope::SCIM_WRITE) || c.admin(),
        Operation::GetGroup(group)
        | Operation::ListGroupMembers(group)
        | Operation::ListSubgroups(group) => {
            c.has_scope(scope::SCIM_READ) || c.admin() || c.reader() || c.manages(group)
        }
        Operation::GetMe => c.has_scope(scope::SCIM_READ) || c.has_role(role::USER),
        Operation::DeleteGroup(group) | Operation::PatchGroup(group) => {
            c.has_scope(scope::SCIM_WRITE) || c.admin() || c.manages(group)
        }
        Operation::GetGroupAttributes(group) => {
            c.has_scope(scope::ADMIN_READ) || c.admin() || c.manages(group)
        }
        Operation::GetGroupLabels(group) => {
            c.has_scope(scope::ADMIN_READ) || c.admin() || c.reader() || c.manages(group)
        }
        Operation::SetGroupAttribute(_)
        | Operation::DeleteGroupAttribute(_)
        | Operation::SetGroupLabel(_)
        | Operation::DeleteGroupLabel(_) => c.has_scope(scope::ADMIN_WRITE) || c.admin(),
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("roles policy: {op:?} not allowed"))
    }
}

/// Decides `op` for `caller` under the `strict` policy.
pub fn authorize_strict(caller: &Principal, op: &Operation) -> Result<(), String> {
    let c = Caller(caller);
    let allowed = match op {
        Operation::GetAccountAttributes(account) | Operation::GetAccountLabels(account) => {
            c.has_scope(scope::ADMIN_READ) || c.is_self(account)
        }
        Operation::GetAccountAuthorities(_) => c.has_scope(scope::ADMIN_READ),
        Operation::SetAccountAttribute(_)
        | Operation::DeleteAccountAttribute(_)
        | Operation::SetAccountLabel(_)
        | Operation::DeleteAccountLabel(_)
        | Operation::AddAccountAuthority(_)
        | Operation::RemoveAccountAuthority(_)
        | Operation::SetEndTime(_) => c.has_scope(scope::ADMIN_WRITE),
        Operation::GetOwnAuthorities | Operation::SetProxyCertificate => c.has_role(role::USER),
        Operation::AddGroupMember(ag) | Operation::RemoveGroupMember(ag) => {
            c.has_scope(scope::ADMIN_WRITE) || c.manages(&ag.group)
        }
        Operation::GetManagedGroups(account) => {
            c.has_scope(scope::ADMIN_READ) || c.is_self(account)
        }
        Operation::CreateIamGroup => c.has_scope(scope::ADMIN_WRITE),
        Operation::UpdateIamGroup(group) => c.has_scope(scope::ADMIN_WRITE) || c.manages(group),
        Operation::AddGroupManager(_) | Operation::RemoveGroupManager(_) => {
            c.has_scope(scope::ADMIN_WRITE)
        }
        Operation::GetGroupManagers(group) => c.has_scope(scope::ADMIN_READ) || c.manages(group),
        Operation::FindAccounts(_)
        | Operation::SearchAccounts
        | Operation::ListClients
        | Operation::GetClient(_) => c.has_scope(scope::ADMIN_READ),
        Operation::CreateClient
        | Operation::DeleteClient(_)
        | Operation::AddClientOwner(_)
        | Operation::RemoveClientOwner(_)
        | Operation::EnableClient(_)
        | Operation::DisableClient(_)
        | Operation::RotateClientSecret(_) => c.has_scope(scope::ADMIN_WRITE),
        Operation::GetOwnClients => c.has_role(role::USER),
        Operation::SearchGroups => c.has_role(role::USER) || c.has_scope(scope::ADMIN_READ),
        Operation::ListUsers | Operation::ListGroups | Operation::GetUser(_) => {
            c.has_scope(scope::SCIM_READ)
        }
        Operation::CreateUser
        | Operation::ReplaceUser(_)
        | Operation::PatchUser(_)
        | Operation::DeleteUser(_)
        | Operation::CreateGroup
        | Operation::ReplaceGroup(_) => c.has_scope(scope::SCIM_WRITE),
        Operation::GetGroup(group)
        | Operation::ListGroupMembers(group)
        | Operation::ListSubgroups(group) => c.has_scope(scope::SCIM_READ) || c.manages(group),
        Operation::GetMe => c.has_scope(scope::SCIM_READ) || c.has_role(role::USER),
        Operation::DeleteGroup(group) | Operation::PatchGroup(group) => {
            c.has_scope(scope::SCIM_WRITE) || c.manages(group)
        }
        Operation::GetGroupAttributes(group) | Operation::GetGroupLabels(group) => {
            c.has_scope(scope::ADMIN_READ) || c.manages(group)
        }
        Operation::SetGroupAttribute(_)
        | Operation::DeleteGroupAttribute(_)
        | Operation::SetGroupLabel(_)
        | Operation::DeleteGroupLabel(_) => c.has_scope(scope::ADMIN_WRITE),
    };
    if allowed {
        Ok(())
    } else {
        Err(format!("strict policy: {op:?} not allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::AccountGroup;

    fn principal(account: Option<&str>, authorities: &[&str], scopes: &[&str]) -> Principal {
        Principal {
            account_id: account.map(Into::into),
            username: None,
            client_id: None,
            authorities: authorities.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    const ME: &str = "11111111-1111-1111-1111-111111111111";
    const OTHER: &str = "22222222-2222-2222-2222-222222222222";
    const G: &str = "c617d586-54e6-411d-8e38-64967798fa8a";

    #[test]
    fn attributes_read() {
        let op = Operation::GetAccountAttributes(OTHER.into());
        let allow = |p: Principal| authorize_roles(&p, &op).is_ok();
        assert!(allow(principal(None, &[], &["iam:admin.read"])));
        assert!(allow(principal(Some(OTHER), &["ROLE_USER"], &[])));
        assert!(allow(principal(
            Some(ME),
            &["ROLE_USER", "ROLE_ADMIN"],
            &[]
        )));
        assert!(allow(principal(
            Some(ME),
            &["ROLE_USER", "ROLE_READER"],
            &[]
        )));
        assert!(allow(principal(
            Some(ME),
            &["ROLE_USER", &format!("ROLE_GM:{G}")],
            &[]
        )));
        assert!(!allow(principal(Some(ME), &["ROLE_USER"], &[])));
        assert!(!allow(principal(
            None,
            &[],
            &["iam:admin.write", "scim:read"]
        )));
    }

    #[test]
    fn attributes_write() {
        for op in [
            Operation::SetAccountAttribute(ME.into()),
            Operation::DeleteAccountAttribute(ME.into()),
        ] {
            let allow = |p: Principal| authorize_roles(&p, &op).is_ok();
            assert!(allow(principal(None, &[], &["iam:admin.write"])));
            assert!(allow(principal(Some(OTHER), &["ROLE_ADMIN"], &[])));
            // Self, readers, managers and the read scope may not write.
            assert!(!allow(principal(Some(ME), &["ROLE_USER"], &[])));
            assert!(!allow(principal(Some(OTHER), &["ROLE_READER"], &[])));
            assert!(!allow(principal(
                Some(OTHER),
                &[&format!("ROLE_GM:{G}")],
                &[]
            )));
            assert!(!allow(principal(None, &[], &["iam:admin.read"])));
        }
    }

    #[test]
    fn group_manager_rules_are_exact() {
        let op = Operation::DeleteGroup(G.into());
        let allow = |p: Principal| authorize_roles(&p, &op).is_ok();
        assert!(allow(principal(Some(ME), &[&format!("ROLE_GM:{G}")], &[])));
        assert!(!allow(principal(Some(ME), &["ROLE_GM:other"], &[])));
        assert!(!allow(principal(Some(ME), &["ROLE_GM"], &[])));
        assert!(allow(principal(None, &[], &["scim:write"])));
        assert!(!allow(principal(None, &[], &["scim:read"])));
    }

    #[test]
    fn scim_reads() {
        let user = Operation::GetUser(OTHER.into());
        let list = Operation::ListUsers;
        let gm = principal(Some(ME), &["ROLE_GM:x"], &[]);
        assert!(authorize_roles(&gm, &user).is_ok());
        assert!(authorize_roles(&gm, &list).is_err());
        let plain = principal(Some(ME), &["ROLE_USER"], &[]);
        assert!(authorize_roles(&plain, &user).is_err());
        assert!(authorize_roles(&principal(None, &[], &["scim:read"]), &list).is_ok());
    }

    #[test]
    fn strict_ignores_roles_except_self_and_group_manager() {
        let admin = principal(Some(ME), &["ROLE_USER", "ROLE_ADMIN", "ROLE_READER"], &[]);
        let other = Operation::GetAccountAttributes(OTHER.into());
        assert!(authorize_strict(&admin, &other).is_err());
        assert!(authorize_strict(&admin, &Operation::ListUsers).is_err());
        assert!(authorize_strict(&admin, &Operation::SetAccountAttribute(ME.into())).is_err());
        // Self may read its own attributes, and only read them.
        assert!(authorize_strict(&admin, &Operation::GetAccountAttributes(ME.into())).is_ok());
        // Scopes grant what they name and nothing more.
        let read = principal(None, &[], &["iam:admin.read"]);
        assert!(authorize_strict(&read, &other).is_ok());
        assert!(authorize_strict(&read, &Operation::SetAccountAttribute(OTHER.into())).is_err());
        let write = principal(None, &[], &["iam:admin.write"]);
        assert!(authorize_strict(&write, &Operation::DeleteAccountAttribute(OTHER.into())).is_ok());
        assert!(authorize_strict(&write, &other).is_err());
        // The manager of a group keeps its group rights.
        let gm = principal(Some(ME), &[&format!("ROLE_GM:{G}")], &[]);
        assert!(authorize_strict(&gm, &Operation::GetGroup(G.into())).is_ok());
        assert!(authorize_strict(&gm, &Operation::DeleteGroup(G.into())).is_ok());
        assert!(authorize_strict(&gm, &Operation::GetGroup("other".into())).is_err());
        assert!(authorize_strict(&gm, &Operation::GetUser(OTHER.into())).is_err());
        let scim = principal(None, &[], &["scim:read", "scim:write"]);
        for op in [
            Operation::ListUsers,
            Operation::CreateUser,
            Operation::DeleteGroup(G.into()),
        ] {
            assert!(authorize_strict(&scim, &op).is_ok(), "{op:?}");
        }
    }

    #[test]
    fn authorities_rows() {
        let get = Operation::GetAccountAuthorities(OTHER.into());
        let add = Operation::AddAccountAuthority(OTHER.into());
        let own = Operation::GetOwnAuthorities;
        let reader = principal(Some(ME), &["ROLE_USER", "ROLE_READER"], &[]);
        let gm = principal(Some(ME), &["ROLE_USER", "ROLE_GM:x"], &[]);
        let plain_self = principal(Some(OTHER), &["ROLE_USER"], &[]);
        let client = principal(None, &[], &["iam:admin.read", "iam:admin.write"]);
        // No self access to an account's authorities, but every user reads its own.
        assert!(authorize_roles(&plain_self, &get).is_err());
        assert!(authorize_roles(&plain_self, &own).is_ok());
        assert!(authorize_strict(&plain_self, &own).is_ok());
        assert!(authorize_roles(&client, &own).is_err());
        assert!(authorize_roles(&reader, &get).is_ok() && authorize_roles(&gm, &get).is_ok());
        assert!(authorize_strict(&reader, &get).is_err() && authorize_strict(&gm, &get).is_err());
        assert!(authorize_roles(&reader, &add).is_err());
        assert!(authorize_roles(&client, &get).is_ok() && authorize_roles(&client, &add).is_ok());
        assert!(authorize_strict(&client, &get).is_ok() && authorize_strict(&client, &add).is_ok());
    }

    #[test]
    fn membership_and_manager_rows() {
        let ag = |g: &str| AccountGroup {
            account: OTHER.into(),
            group: g.into(),
        };
        let gm = principal(Some(ME), &["ROLE_USER", &format!("ROLE_GM:{G}")], &[]);
        let admin = principal(Some(ME), &["ROLE_USER", "ROLE_ADMIN"], &[]);
        let write = principal(None, &[], &["iam:admin.write"]);
        for policy in [authorize_roles, authorize_strict] {
            // A group manager manages the membership of its own group only, under both.
            assert!(policy(&gm, &Operation::AddGroupMember(ag(G))).is_ok());
            assert!(policy(&gm, &Operation::RemoveGroupMember(ag(G))).is_ok());
            assert!(policy(&gm, &Operation::AddGroupMember(ag("other"))).is_err());
            assert!(policy(&gm, &Operation::GetGroupManagers(G.into())).is_ok());
            assert!(policy(&gm, &Operation::GetGroupManagers("other".into())).is_err());
            // Only the write scope (and, under roles, ROLE_ADMIN) appoints managers.
            assert!(policy(&gm, &Operation::AddGroupManager(ag(G))).is_err());
            assert!(policy(&write, &Operation::AddGroupManager(ag(G))).is_ok());
            assert!(policy(&write, &Operation::RemoveGroupMember(ag(G))).is_ok());
            // Self reads its own managed groups.
            assert!(policy(&gm, &Operation::GetManagedGroups(ME.into())).is_ok());
            assert!(policy(&gm, &Operation::GetManagedGroups(OTHER.into())).is_err());
        }
        assert!(authorize_roles(&admin, &Operation::AddGroupManager(ag(G))).is_ok());
        assert!(authorize_strict(&admin, &Operation::AddGroupManager(ag(G))).is_err());
        assert!(authorize_roles(&admin, &Operation::GetManagedGroups(OTHER.into())).is_ok());
        assert!(authorize_strict(&admin, &Operation::GetManagedGroups(OTHER.into())).is_err());
    }
}
