//! An in-memory store for the unit tests of the handler logic.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use crate::store::{
    AccountCreate, AccountUpdate, Accounts, AttributeStore, AuthorityStore, CertificateStore,
    ClientCreate, ClientStore, Created, GroupMetadataStore, GroupStore, LabelStore,
    MembershipStore, StoreResult,
};
use crate::types::{
    Account, AccountOrder, Attribute, Certificate, Client, Group, GroupRef, Label, LabelFilter,
    ListQuery, OidcId, Profile, SamlId, SshKey, User,
};

/// An account's linked OIDC ids, SAML ids, SSH keys and certificates.
type Identities = (Vec<OidcId>, Vec<SamlId>, Vec<SshKey>, Vec<Certificate>);

/// (account, subject, issuer) of a certificate.
type CertKey = (String, String, String);

#[derive(Default)]
pub struct FakeStore {
    accounts: RefCell<Vec<Account>>,
    attributes: RefCell<BTreeMap<(String, String), Option<String>>>,
    touches: RefCell<BTreeMap<String, u32>>,
    groups: RefCell<Vec<Group>>,
    /// (account, authority) pairs.
    grants: RefCell<Vec<(String, String)>>,
    clients: RefCell<Vec<Client>>,
    /// (account, subject, issuer) → (chain, expiration) of stored proxies.
    proxies: RefCell<BTreeMap<CertKey, (String, u64)>>,
    /// account → its linked identities.
    identities: RefCell<BTreeMap<String, Identities>>,
    /// (client, account) pairs.
    owners: RefCell<Vec<(String, String)>>,
    /// (account, group) pairs.
    members: RefCell<Vec<(String, String)>>,
    /// (account, prefix or "", name) → label.
    labels: RefCell<BTreeMap<(String, String, String), Label>>,
    /// account → its profile.
    profiles: RefCell<BTreeMap<String, Profile>>,
    /// (group, name) → value.
    group_attributes: RefCell<BTreeMap<(String, String), Option<String>>>,
    /// (group, prefix or "", name) → label.
    group_labels: RefCell<BTreeMap<(String, String, String), Label>>,
    next: Cell<u32>,
}

impl FakeStore {
    fn new_id(&self) -> String {
        self.next.set(self.next.get() + 1);
        format!("id-{}", self.next.get())
    }

    pub fn add_account(&self, username: &str) -> String {
        Accounts::create(
            self,
            &AccountCreate {
                id: None,
                username: username.into(),
                given_name: "Given".into(),
                family_name: "Family".into(),
                email: format!("{username}@example.org"),
                active: true,
                password: None,
            },
        )
        .unwrap()
        .id
    }

    /// The groups `account` is a direct member of, in group creation order.
    pub fn memberships(&self, account: &str) -> Vec<String> {
        let members = self.members.borrow();
        self.groups
            .borrow()
            .iter()
            .filter(|g| members.contains(&(account.to_string(), g.id.clone())))
            .map(|g| g.id.clone())
            .collect()
    }

    /// The users with these ids, ordered by username, one page of them.
    fn users_sorted(&self, ids: Vec<String>, offset: u64, limit: u64) -> Vec<User> {
        let mut users: Vec<User> = ids
            .iter()
            .filter_map(|id| self.get_user(id).unwrap())
            .collect();
        users.sort_by(|a, b| a.account.username.cmp(&b.account.username));
        users.dedup_by(|a, b| a.account.id == b.account.id);
        users
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect()
    }

    /// The proxy stored for the account's certificate with this subject and issuer.
    pub fn proxy_of(&self, account: &str, subject: &str, issuer: &str) -> Option<(String, u64)> {
        let key = (account.to_string(), subject.to_string(), issuer.to_string());
        self.proxies.borrow().get(&key).cloned()
    }

    /// The account a (subject, issuer) pair is linked to.
    fn certificate_owner(&self, subject_dn: &str, issuer_dn: &str) -> Option<String> {
        self.identities
            .borrow()
            .iter()
            .find(|(_, (_, _, _, c))| {
                c.iter()
                    .any(|c| c.subject_dn == subject_dn && c.issuer_dn == issuer_dn)
            })
            .map(|(a, _)| a.clone())
    }

    pub fn touches(&self, id: &str) -> u32 {
        self.touches.borrow().get(id).copied().unwrap_or(0)
    }
}

/// A user with nothing but its account (the fake does not assemble the extras).
/// A profile with nothing in it.
pub fn empty_profile() -> Profile {
    Profile {
        nick_name: None,
        profile_url: None,
        locale: None,
        timezone: None,
        picture: None,
        address: None,
    }
}

fn bare_user(account: Account) -> User {
    User {
        account,
        profile: empty_profile(),
        groups: Vec::new(),
        labels: Vec::new(),
        attributes: Vec::new(),
        authorities: Vec::new(),
        managed_groups: Vec::new(),
        oidc_ids: Vec::new(),
        saml_ids: Vec::new(),
        ssh_keys: Vec::new(),
        certificates: Vec::new(),
    }
}

impl Accounts for FakeStore {
    fn get(&self, id: &str) -> StoreResult<Option<Account>> {
        Ok(self.accounts.borrow().iter().find(|a| a.id == id).cloned())
    }
    fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        let (oidc_ids, saml_ids, ssh_keys, certificates) = self
            .identities
            .borrow()
            .get(id)
            .cloned()
            .unwrap_or_default();
        let profile = self.profiles.borrow().get(id).cloned();
        Ok(Accounts::get(self, id)?.map(|a| User {
            oidc_ids,
            saml_ids,
            ssh_keys,
            certificates,
            profile: profile.unwrap_or_else(empty_profile),
            ..bare_user(a)
        }))
    }
    fn find_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .accounts
            .borrow()
            .iter()
            .find(|a| a.username == username)
            .cloned())
    }
    fn find_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .accounts
            .borrow()
            .iter()
            .find(|a| a.email == email)
            .cloned())
    }
    fn create(&self, new: &AccountCreate) -> StoreResult<Account> {
        let new = new.clone();
        let account = Account {
            id: new.id.unwrap_or_else(|| self.new_id()),
            username: new.username,
            given_name: new.given_name,
            family_name: new.family_name,
            email: new.email,
            active: new.active,
            service_account: false,
            created: 0,
            last_modified: 0,
            end_time: None,
        };
        self.accounts.borrow_mut().push(account.clone());
        Ok(account)
    }
    fn update(&self, id: &str, c: &AccountUpdate) -> StoreResult<Account> {
        for a in self.accounts.borrow_mut().iter_mut().filter(|a| a.id == id) {
            a.username = c.username.clone();
            a.given_name = c.given_name.clone();
            a.family_name = c.family_name.clone();
            a.email = c.email.clone();
            a.active = c.active;
        }
        Ok(Accounts::get(self, id)?.expect("updated account exists"))
    }
    fn delete(&self, id: &str) -> StoreResult<bool> {
        let mut accounts = self.accounts.borrow_mut();
        let before = accounts.len();
        accounts.retain(|a| a.id != id);
        Ok(accounts.len() != before)
    }
    fn touch(&self, id: &str) -> StoreResult<()> {
        *self.touches.borrow_mut().entry(id.into()).or_default() += 1;
        Ok(())
    }
    fn set_end_time(&self, id: &str, end_time: Option<u64>) -> StoreResult<()> {
        for a in self.accounts.borrow_mut().iter_mut().filter(|a| a.id == id) {
            a.end_time = end_time;
        }
        Ok(())
    }
    fn set_active(&self, id: &str, active: bool) -> StoreResult<()> {
        for a in self.accounts.borrow_mut().iter_mut().filter(|a| a.id == id) {
            a.active = active;
        }
        Ok(())
    }
    fn expired_before(&self, time: u64) -> StoreResult<Vec<Account>> {
        let mut found: Vec<Account> = self
            .accounts
            .borrow()
            .iter()
            .filter(|a| a.end_time.is_some_and(|e| e < time))
            .cloned()
            .collect();
        found.sort_by_key(|a| a.end_time);
        Ok(found)
    }
    fn count(&self) -> StoreResult<u64> {
        Ok(self.accounts.borrow().len() as u64)
    }
    // The fake evaluates no filter language: the host's store does (its tests compare it
    // with the filter's own evaluator). Without a filter or an order it is the plain list.
    fn count_users(&self, query: &ListQuery) -> StoreResult<u64> {
        plain(query)?;
        Accounts::count(self)
    }
    fn find_users(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        plain(query)?;
        self.list_users(offset, limit)
    }
    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        let ids: Vec<String> = self
            .accounts
            .borrow()
            .iter()
            .map(|a| a.id.clone())
            .collect();
        ids.iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|id| Ok(self.get_user(id)?.unwrap()))
            .collect()
    }
    fn count_matching(&self, pattern: Option<&str>) -> StoreResult<u64> {
        Ok(Accounts::search(self, pattern, AccountOrder::Name, false, 0, u64::MAX)?.len() as u64)
    }
    fn search(
        &self,
        pattern: Option<&str>,
        order: AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let needle = pattern.unwrap_or_default().to_lowercase();
        let mut found: Vec<Account> = self
            .accounts
            .borrow()
            .iter()
            .filter(|a| {
                [
                    &a.email,
                    &a.username,
                    &a.id,
                    &format!("{} {}", a.given_name, a.family_name),
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
            })
            .cloned()
            .collect();
        found.sort_by_key(|a| match order {
            AccountOrder::Name => format!("{} {}", a.given_name, a.family_name).to_lowercase(),
            AccountOrder::Email => a.email.to_lowercase(),
            AccountOrder::Creation => format!("{:020}", a.created),
        });
        if descending {
            found.reverse();
        }
        Ok(found
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(bare_user)
            .collect())
    }
    fn find_by_oidc_id(&self, id: &OidcId) -> StoreResult<Option<Account>> {
        let owner = self
            .identities
            .borrow()
            .iter()
            .find(|(_, (o, _, _, _))| o.contains(id))
            .map(|(a, _)| a.clone());
        owner.map_or(Ok(None), |a| Accounts::get(self, &a))
    }
    fn find_by_saml_id(&self, id: &SamlId) -> StoreResult<Option<Account>> {
        let owner = self
            .identities
            .borrow()
            .iter()
            .find(|(_, (_, s, _, _))| s.contains(id))
            .map(|(a, _)| a.clone());
        owner.map_or(Ok(None), |a| Accounts::get(self, &a))
    }
    fn find_by_ssh_fingerprint(&self, fingerprint: &str) -> StoreResult<Option<Account>> {
        let owner = self
            .identities
            .borrow()
            .iter()
            .find(|(_, (_, _, k, _))| k.iter().any(|k| k.fingerprint == fingerprint))
            .map(|(a, _)| a.clone());
        owner.map_or(Ok(None), |a| Accounts::get(self, &a))
    }
    fn find_by_certificate(
        &self,
        subject_dn: &str,
        issuer_dn: &str,
    ) -> StoreResult<Option<Account>> {
        let owner = self.certificate_owner(subject_dn, issuer_dn);
        owner.map_or(Ok(None), |a| Accounts::get(self, &a))
    }
    fn set_identities(
        &self,
        id: &str,
        oidc: &[OidcId],
        saml: &[SamlId],
        ssh: &[SshKey],
        certificates: &[Certificate],
    ) -> StoreResult<()> {
        self.identities.borrow_mut().insert(
            id.to_string(),
            (
                oidc.to_vec(),
                saml.to_vec(),
                ssh.to_vec(),
                certificates.to_vec(),
            ),
        );
        Ok(())
    }
    fn set_profile(&self, id: &str, profile: &Profile) -> StoreResult<()> {
        self.profiles
            .borrow_mut()
            .insert(id.to_string(), profile.clone());
        Ok(())
    }
    fn find_by_cert_subject(&self, _subject: &str) -> StoreResult<Option<Account>> {
        Ok(None)
    }
    fn count_with_label(&self, label: &LabelFilter) -> StoreResult<u64> {
        Ok(self.with_label(label, 0, u64::MAX)?.len() as u64)
    }
    fn with_label(&self, label: &LabelFilter, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        let ids: Vec<String> = self
            .labels
            .borrow()
            .iter()
            .filter(|((_, p, n), l)| {
                n == &label.name
                    && label.prefix.as_ref().is_none_or(|want| want == p)
                    && label
                        .value
                        .as_ref()
                        .is_none_or(|want| l.value.as_ref() == Some(want))
            })
            .map(|((a, _, _), _)| a.clone())
            .collect();
        Ok(self.users_sorted(ids, offset, limit))
    }
    fn count_in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
    ) -> StoreResult<u64> {
        Ok(self.in_group(group_id, member, pattern, 0, u64::MAX)?.len() as u64)
    }
    fn in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let needle = pattern.unwrap_or_default().to_lowercase();
        let members = self.members.borrow();
        let ids: Vec<String> = self
            .accounts
            .borrow()
            .iter()
            .filter(|a| members.contains(&(a.id.clone(), group_id.to_string())) == member)
            .filter(|a| {
                [
                    &a.email,
                    &a.username,
                    &format!("{} {}", a.given_name, a.family_name),
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&needle))
            })
            .map(|a| a.id.clone())
            .collect();
        Ok(self.users_sorted(ids, offset, limit))
    }
    fn count_with_authority_ignoring_case(&self, authority: &str) -> StoreResult<u64> {
        Ok(self
            .with_authority_ignoring_case(authority, 0, u64::MAX)?
            .len() as u64)
    }
    fn with_authority_ignoring_case(
        &self,
        authority: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        let ids: Vec<String> = self
            .grants
            .borrow()
            .iter()
            .filter(|(_, r)| r.eq_ignore_ascii_case(authority))
            .map(|(a, _)| a.clone())
            .collect();
        Ok(self.users_sorted(ids, offset, limit))
    }
    fn members_of(&self, group_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        let ids: Vec<String> = self
            .members
            .borrow()
            .iter()
            .filter(|(_, g)| g == group_id)
            .map(|(a, _)| a.clone())
            .collect();
        let mut users: Vec<User> = ids
            .iter()
            .filter_map(|id| self.get_user(id).unwrap())
            .collect();
        users.sort_by(|a, b| a.account.username.cmp(&b.account.username));
        Ok(users
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }
    fn with_authority(&self, authority: &str) -> StoreResult<Vec<User>> {
        let holders: Vec<String> = self
            .grants
            .borrow()
            .iter()
            .filter(|(_, r)| r == authority)
            .map(|(a, _)| a.clone())
            .collect();
        let mut users: Vec<User> = holders
            .iter()
            .filter_map(|id| self.get_user(id).unwrap())
            .collect();
        users.sort_by(|a, b| a.account.username.cmp(&b.account.username));
        Ok(users)
    }
}

impl AttributeStore for FakeStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Attribute>> {
        Ok(self
            .attributes
            .borrow()
            .iter()
            .filter(|((a, _), _)| a == account_id)
            .map(|((_, name), value)| Attribute {
                name: name.clone(),
                value: value.clone(),
            })
            .collect())
    }
    fn put(&self, account_id: &str, attr: &Attribute) -> StoreResult<()> {
        self.attributes
            .borrow_mut()
            .insert((account_id.into(), attr.name.clone()), attr.value.clone());
        Ok(())
    }
    fn remove(&self, account_id: &str, name: &str) -> StoreResult<bool> {
        Ok(self
            .attributes
            .borrow_mut()
            .remove(&(account_id.into(), name.into()))
            .is_some())
    }
}

impl GroupMetadataStore for FakeStore {
    fn get_attributes(&self, group_id: &str) -> StoreResult<Vec<Attribute>> {
        Ok(self
            .group_attributes
            .borrow()
            .iter()
            .filter(|((g, _), _)| g == group_id)
            .map(|((_, name), value)| Attribute {
                name: name.clone(),
                value: value.clone(),
            })
            .collect())
    }
    fn put_attribute(&self, group_id: &str, attr: &Attribute) -> StoreResult<()> {
        self.group_attributes
            .borrow_mut()
            .insert((group_id.into(), attr.name.clone()), attr.value.clone());
        Ok(())
    }
    fn remove_attribute(&self, group_id: &str, name: &str) -> StoreResult<bool> {
        Ok(self
            .group_attributes
            .borrow_mut()
            .remove(&(group_id.into(), name.into()))
            .is_some())
    }
    fn get_labels(&self, group_id: &str) -> StoreResult<Vec<Label>> {
        Ok(self
            .group_labels
            .borrow()
            .iter()
            .filter(|((g, _, _), _)| g == group_id)
            .map(|(_, l)| l.clone())
            .collect())
    }
    fn put_label(&self, group_id: &str, l: &Label) -> StoreResult<()> {
        let key = (
            group_id.to_string(),
            l.prefix.clone().unwrap_or_default(),
            l.name.clone(),
        );
        self.group_labels.borrow_mut().insert(key, l.clone());
        Ok(())
    }
    fn remove_label(&self, group_id: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool> {
        let key = (
            group_id.to_string(),
            prefix.unwrap_or_default().to_string(),
            name.to_string(),
        );
        Ok(self.group_labels.borrow_mut().remove(&key).is_some())
    }
}

impl GroupStore for FakeStore {
    fn get(&self, id: &str) -> StoreResult<Option<Group>> {
        Ok(self.groups.borrow().iter().find(|g| g.id == id).cloned())
    }
    fn find_by_name(&self, name: &str) -> StoreResult<Option<Group>> {
        Ok(self
            .groups
            .borrow()
            .iter()
            .find(|g| g.name == name)
            .cloned())
    }
    fn create(&self, name: &str, parent_id: Option<&str>) -> StoreResult<Group> {
        let parent = match parent_id {
            Some(p) => GroupStore::get(self, p)?.map(|g| GroupRef {
                id: g.id,
                name: g.name,
            }),
            None => None,
        };
        let group = Group {
            id: self.new_id(),
            name: name.into(),
            description: None,
            parent,
            created: 0,
            last_modified: 0,
        };
        self.groups.borrow_mut().push(group.clone());
        Ok(group)
    }
    fn set_description(&self, id: &str, description: Option<&str>) -> StoreResult<Group> {
        for g in self.groups.borrow_mut().iter_mut().filter(|g| g.id == id) {
            g.description = description.map(String::from);
        }
        Ok(GroupStore::get(self, id)?.expect("group exists"))
    }
    fn rename(&self, id: &str, name: &str) -> StoreResult<Group> {
        for g in self.groups.borrow_mut().iter_mut().filter(|g| g.id == id) {
            g.name = name.to_string();
        }
        Ok(GroupStore::get(self, id)?.expect("renamed group exists"))
    }
    fn delete(&self, id: &str) -> StoreResult<bool> {
        let mut groups = self.groups.borrow_mut();
        let before = groups.len();
        groups.retain(|g| g.id != id);
        Ok(groups.len() != before)
    }
    fn count_members(&self, id: &str) -> StoreResult<u64> {
        Ok(self
            .members
            .borrow()
            .iter()
            .filter(|(_, g)| g == id)
            .count() as u64)
    }
    fn count_subgroups(&self, id: &str) -> StoreResult<u64> {
        Ok(self
            .groups
            .borrow()
            .iter()
            .filter(|g| g.parent.as_ref().is_some_and(|p| p.id == id))
            .count() as u64)
    }
    fn count(&self) -> StoreResult<u64> {
        Ok(self.groups.borrow().len() as u64)
    }
    fn count_groups(&self, query: &ListQuery) -> StoreResult<u64> {
        plain(query)?;
        GroupStore::count(self)
    }
    fn find_groups(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<Group>> {
        plain(query)?;
        self.list_groups(offset, limit)
    }
    fn list_groups(&self, offset: u64, limit: u64) -> StoreResult<Vec<Group>> {
        Ok(self
            .groups
            .borrow()
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect())
    }
    fn count_matching(&self, text: Option<&str>) -> StoreResult<u64> {
        Ok(GroupStore::search(self, text, false, 0, u64::MAX)?.len() as u64)
    }
    fn search(
        &self,
        text: Option<&str>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<Group>> {
        let needle = text.unwrap_or_default().to_lowercase();
        let mut found: Vec<Group> = self
            .groups
            .borrow()
            .iter()
            .filter(|g| g.name.to_lowercase().contains(&needle) || g.id.contains(&needle))
            .cloned()
            .collect();
        found.sort_by_key(|g| g.name.to_lowercase());
        if descending {
            found.reverse();
        }
        Ok(found
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }
    fn subgroups(&self, id: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRef>> {
        let mut refs: Vec<GroupRef> = self
            .groups
            .borrow()
            .iter()
            .filter(|g| g.parent.as_ref().is_some_and(|p| p.id == id))
            .map(|g| GroupRef {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect();
        refs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(refs
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect())
    }
    fn all_refs(&self) -> StoreResult<Vec<GroupRef>> {
        let mut refs: Vec<GroupRef> = self
            .groups
            .borrow()
            .iter()
            .map(|g| GroupRef {
                id: g.id.clone(),
                name: g.name.clone(),
            })
            .collect();
        refs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(refs)
    }
    fn touch(&self, id: &str) -> StoreResult<()> {
        Accounts::touch(self, id)
    }
}

impl MembershipStore for FakeStore {
    fn ancestors(&self, group_id: &str) -> StoreResult<Vec<String>> {
        let mut chain = Vec::new();
        let mut current = GroupStore::get(self, group_id)?;
        while let Some(parent) = current.and_then(|g| g.parent) {
            chain.push(parent.id.clone());
            current = GroupStore::get(self, &parent.id)?;
        }
        Ok(chain)
    }
    fn descendants(&self, group_id: &str) -> StoreResult<Vec<String>> {
        let groups = self.groups.borrow();
        let mut found = vec![group_id.to_string()];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i].clone();
            found.extend(
                groups
                    .iter()
                    .filter(|g| g.parent.as_ref().is_some_and(|p| p.id == parent))
                    .map(|g| g.id.clone()),
            );
            i += 1;
        }
        found.remove(0);
        Ok(found)
    }
    fn add(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        let pair = (account_id.to_string(), group_id.to_string());
        let mut members = self.members.borrow_mut();
        if members.contains(&pair) {
            return Ok(false);
        }
        members.push(pair);
        Ok(true)
    }
    fn remove(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        let mut members = self.members.borrow_mut();
        let before = members.len();
        members.retain(|(a, g)| !(a == account_id && g == group_id));
        Ok(members.len() != before)
    }
}

impl AuthorityStore for FakeStore {
    fn of_account(&self, account_id: &str) -> StoreResult<Vec<String>> {
        let mut held: Vec<String> = std::iter::once("ROLE_USER".to_string())
            .chain(
                self.grants
                    .borrow()
                    .iter()
                    .filter(|(a, _)| a == account_id)
                    .map(|(_, r)| r.clone()),
            )
            .collect();
        held[1..].sort();
        Ok(held)
    }
    fn exists(&self, authority: &str) -> StoreResult<bool> {
        Ok([
            "ROLE_ADMIN",
            "ROLE_USER",
            "ROLE_READER",
            "ROLE_PRE_AUTHENTICATED",
        ]
        .contains(&authority))
    }
    fn grant(&self, account_id: &str, authority: &str) -> StoreResult<bool> {
        let pair = (account_id.to_string(), authority.to_string());
        let mut grants = self.grants.borrow_mut();
        if grants.contains(&pair) {
            return Ok(false);
        }
        grants.push(pair);
        Ok(true)
    }
    fn revoke(&self, account_id: &str, authority: &str) -> StoreResult<bool> {
        let mut grants = self.grants.borrow_mut();
        let before = grants.len();
        grants.retain(|(a, r)| !(a == account_id && r == authority));
        Ok(grants.len() != before)
    }
}

impl LabelStore for FakeStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Label>> {
        Ok(self
            .labels
            .borrow()
            .iter()
            .filter(|((a, _, _), _)| a == account_id)
            .map(|(_, l)| l.clone())
            .collect())
    }
    fn find(
        &self,
        account_id: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>> {
        let key = (
            account_id.to_string(),
            prefix.unwrap_or_default().to_string(),
            name.to_string(),
        );
        Ok(self.labels.borrow().get(&key).cloned())
    }
    fn put(&self, account_id: &str, label: &Label) -> StoreResult<()> {
        let key = (
            account_id.to_string(),
            label.prefix.clone().unwrap_or_default(),
            label.name.clone(),
        );
        self.labels.borrow_mut().insert(key, label.clone());
        Ok(())
    }
    fn remove(&self, account_id: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool> {
        let key = (
            account_id.to_string(),
            prefix.unwrap_or_default().to_string(),
            name.to_string(),
        );
        Ok(self.labels.borrow_mut().remove(&key).is_some())
    }
}

impl ClientStore for FakeStore {
    fn get(&self, client_id: &str) -> StoreResult<Option<Client>> {
        Ok(self
            .clients
            .borrow()
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned())
    }
    fn create(&self, new: &ClientCreate) -> StoreResult<Created> {
        let new = new.clone();
        let client = Client {
            client_id: new.client_id.unwrap_or_else(|| self.new_id()),
            client_name: new.client_name,
            client_description: new.client_description,
            scope: new.scope,
            grant_types: new.grant_types,
            redirect_uris: new.redirect_uris,
            token_endpoint_auth_method: new.token_endpoint_auth_method,
            active: new.active,
            created: 0,
            last_used: None,
            status_changed_on: None,
            status_changed_by: None,
            access_token_validity: new.access_token_validity,
            refresh_token_validity: new.refresh_token_validity,
        };
        self.clients.borrow_mut().push(client.clone());
        let secret = new
            .secret
            .or(new.generate_secret.then(|| "generated".to_string()));
        Ok(Created { client, secret })
    }
    fn delete(&self, client_id: &str) -> StoreResult<bool> {
        let mut clients = self.clients.borrow_mut();
        let before = clients.len();
        clients.retain(|c| c.client_id != client_id);
        Ok(clients.len() != before)
    }
    fn count(&self) -> StoreResult<u64> {
        Ok(self.clients.borrow().len() as u64)
    }
    fn list_clients(&self, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        Ok(self
            .clients
            .borrow()
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect())
    }
    fn add_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool> {
        let pair = (client_id.to_string(), account_id.to_string());
        let mut owners = self.owners.borrow_mut();
        if owners.contains(&pair) {
            return Ok(false);
        }
        owners.push(pair);
        Ok(true)
    }
    fn remove_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool> {
        let mut owners = self.owners.borrow_mut();
        let before = owners.len();
        owners.retain(|(c, a)| !(c == client_id && a == account_id));
        Ok(owners.len() != before)
    }
    fn count_owned(&self, account_id: &str) -> StoreResult<u64> {
        Ok(self.owned(account_id, 0, u64::MAX)?.len() as u64)
    }
    fn owned(&self, account_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        let owners = self.owners.borrow();
        Ok(self
            .clients
            .borrow()
            .iter()
            .filter(|c| owners.contains(&(c.client_id.clone(), account_id.to_string())))
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect())
    }
    fn set_active(
        &self,
        client_id: &str,
        active: bool,
        changed_by: Option<&str>,
    ) -> StoreResult<bool> {
        let mut clients = self.clients.borrow_mut();
        let Some(c) = clients.iter_mut().find(|c| c.client_id == client_id) else {
            return Ok(false);
        };
        c.active = active;
        c.status_changed_on = Some(1);
        c.status_changed_by = changed_by.map(String::from);
        Ok(true)
    }
    fn new_secret(&self, client_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .clients
            .borrow()
            .iter()
            .any(|c| c.client_id == client_id)
            .then(|| format!("rotated-{client_id}")))
    }
}

impl CertificateStore for FakeStore {
    // Like the host's store: a pair linked to another account is never written.
    fn link(&self, account_id: &str, cert: &Certificate) -> StoreResult<()> {
        match self.certificate_owner(&cert.subject_dn, &cert.issuer_dn) {
            Some(owner) if owner != account_id => Err("linked to another account".into()),
            Some(_) => Ok(()),
            None => {
                let mut ids = self.identities.borrow_mut();
                ids.entry(account_id.to_string())
                    .or_default()
                    .3
                    .push(cert.clone());
                Ok(())
            }
        }
    }
    fn set_proxy(
        &self,
        account_id: &str,
        subject_dn: &str,
        issuer_dn: &str,
        chain: &str,
        expiration: u64,
    ) -> StoreResult<()> {
        if self.certificate_owner(subject_dn, issuer_dn).as_deref() != Some(account_id) {
            return Err("no such certificate linked to the account".into());
        }
        let key = (account_id.into(), subject_dn.into(), issuer_dn.into());
        self.proxies
            .borrow_mut()
            .insert(key, (chain.into(), expiration));
        Ok(())
    }
}

/// The fake store answers only queries without a filter or an order.
fn plain(query: &ListQuery) -> StoreResult<()> {
    if query.filter.is_some() || query.sort_by.is_some() {
        return Err("the fake store evaluates no filters or orders".into());
    }
    Ok(())
}
