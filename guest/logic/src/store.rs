//! What the handlers need from the host's database, as traits. In a component they are
//! implemented by the WIT imports; in unit tests by an in-memory fake.

use crate::types::{
    Account, AccountOrder, Attribute, Certificate, Client, Group, GroupRef, Label, LabelFilter,
    OidcId, Profile, SamlId, SshKey, User,
};

/// A failure of the database itself (its message is for logs).
pub type StoreError = String;
pub type StoreResult<T> = Result<T, StoreError>;

/// A new account, validated by the handler (`accounts.account-create` in the WIT).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCreate {
    pub id: Option<String>,
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub active: bool,
    pub password: Option<String>,
}

/// New values for an existing account (`accounts.account-update` in the WIT).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountUpdate {
    pub username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub active: bool,
    pub password: Option<String>,
}

/// Looking an account up by UUID: all some rules need. Every [`Accounts`] store offers it;
/// the host's native benchmark build implements only this and [`AttributeStore`].
pub trait AccountLookup {
    fn account(&self, id: &str) -> StoreResult<Option<Account>>;
}

impl<T: Accounts> AccountLookup for T {
    fn account(&self, id: &str) -> StoreResult<Option<Account>> {
        self.get(id)
    }
}

/// The account interfaces: `accounts` (reads), `account-touch`, `account-lifecycle` and
/// `account-writer`. One trait, since a component imports only the interfaces whose
/// functions its logic calls.
pub trait Accounts {
    fn get(&self, id: &str) -> StoreResult<Option<Account>>;
    fn get_user(&self, id: &str) -> StoreResult<Option<User>>;
    fn find_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    fn find_by_email(&self, email: &str) -> StoreResult<Option<Account>>;
    fn create(&self, new: AccountCreate) -> StoreResult<Account>;
    fn update(&self, id: &str, changes: AccountUpdate) -> StoreResult<Account>;
    fn delete(&self, id: &str) -> StoreResult<bool>;
    fn touch(&self, id: &str) -> StoreResult<()>;
    fn set_end_time(&self, id: &str, end_time: Option<u64>) -> StoreResult<()>;
    fn set_active(&self, id: &str, active: bool) -> StoreResult<()>;
    fn expired_before(&self, time: u64) -> StoreResult<Vec<Account>>;
    fn count(&self) -> StoreResult<u64>;
    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    fn count_matching(&self, pattern: Option<&str>) -> StoreResult<u64>;
    fn search(
        &self,
        pattern: Option<&str>,
        order: AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    fn find_by_oidc_id(&self, id: &OidcId) -> StoreResult<Option<Account>>;
    fn find_by_saml_id(&self, id: &SamlId) -> StoreResult<Option<Account>>;
    fn find_by_ssh_fingerprint(&self, fingerprint: &str) -> StoreResult<Option<Account>>;
    fn find_by_certificate(
        &self,
        subject_dn: &str,
        issuer_dn: &str,
    ) -> StoreResult<Option<Account>>;
    fn set_identities(
        &self,
        id: &str,
        oidc: &[OidcId],
        saml: &[SamlId],
        ssh: &[SshKey],
        certificates: &[Certificate],
    ) -> StoreResult<()>;
    fn set_profile(&self, id: &str, profile: &Profile) -> StoreResult<()>;
    fn find_by_cert_subject(&self, subject: &str) -> StoreResult<Option<Account>>;
    fn count_with_label(&self, label: &LabelFilter) -> StoreResult<u64>;
    fn with_label(&self, label: &LabelFilter, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    fn count_in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
    ) -> StoreResult<u64>;
    fn in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    fn count_with_authority_ignoring_case(&self, authority: &str) -> StoreResult<u64>;
    fn with_authority_ignoring_case(
        &self,
        authority: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>>;
    fn members_of(&self, group_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<User>>;
    fn with_authority(&self, authority: &str) -> StoreResult<Vec<User>>;
}

/// The `attribute-store` interface.
pub trait AttributeStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Attribute>>;
    fn put(&self, account_id: &str, attr: &Attribute) -> StoreResult<()>;
    fn remove(&self, account_id: &str, name: &str) -> StoreResult<bool>;
}

/// The `group-store` (reads) and `group-writer` interfaces.
pub trait GroupStore {
    fn get(&self, id: &str) -> StoreResult<Option<Group>>;
    fn find_by_name(&self, name: &str) -> StoreResult<Option<Group>>;
    fn create(&self, name: &str, parent_id: Option<&str>) -> StoreResult<Group>;
    fn rename(&self, id: &str, name: &str) -> StoreResult<Group>;
    fn set_description(&self, id: &str, description: Option<&str>) -> StoreResult<Group>;
    fn delete(&self, id: &str) -> StoreResult<bool>;
    fn count_members(&self, id: &str) -> StoreResult<u64>;
    fn count_subgroups(&self, id: &str) -> StoreResult<u64>;
    fn count(&self) -> StoreResult<u64>;
    fn list_groups(&self, offset: u64, limit: u64) -> StoreResult<Vec<Group>>;
    fn count_matching(&self, text: Option<&str>) -> StoreResult<u64>;
    fn search(
        &self,
        text: Option<&str>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<Group>>;
    fn subgroups(&self, id: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRef>>;
    fn all_refs(&self) -> StoreResult<Vec<GroupRef>>;
    fn touch(&self, id: &str) -> StoreResult<()>;
}

/// The `authority-store` (reads) and `authority-writer` (grants) interfaces.
pub trait AuthorityStore {
    fn of_account(&self, account_id: &str) -> StoreResult<Vec<String>>;
    fn exists(&self, authority: &str) -> StoreResult<bool>;
    fn grant(&self, account_id: &str, authority: &str) -> StoreResult<bool>;
    fn revoke(&self, account_id: &str, authority: &str) -> StoreResult<bool>;
}

/// The `manager-store` interface: appointing group managers, which grants
/// `ROLE_GM:<group>` and nothing else.
pub trait ManagerStore {
    fn appoint(&self, account_id: &str, group_id: &str) -> StoreResult<bool>;
    fn dismiss(&self, account_id: &str, group_id: &str) -> StoreResult<bool>;
}

/// The `label-store` interface.
pub trait LabelStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Label>>;
    fn find(
        &self,
        account_id: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>>;
    fn put(&self, account_id: &str, label: &Label) -> StoreResult<()>;
    fn remove(&self, account_id: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool>;
}

/// The `membership-store` interface.
pub trait MembershipStore {
    fn ancestors(&self, group_id: &str) -> StoreResult<Vec<String>>;
    fn descendants(&self, group_id: &str) -> StoreResult<Vec<String>>;
    fn add(&self, account_id: &str, group_id: &str) -> StoreResult<bool>;
    fn remove(&self, account_id: &str, group_id: &str) -> StoreResult<bool>;
}

/// A new client (`client-store.client-create` in the WIT).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCreate {
    pub client_id: Option<String>,
    pub secret: Option<String>,
    pub generate_secret: bool,
    pub client_name: Option<String>,
    pub client_description: Option<String>,
    pub scope: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub active: bool,
    pub access_token_validity: Option<u64>,
    pub refresh_token_validity: Option<u64>,
}

/// The `client-store` interface.
pub trait ClientStore {
    fn get(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// The client and its secret in clear (given or generated).
    fn create(&self, new: ClientCreate) -> StoreResult<(Client, Option<String>)>;
    fn delete(&self, client_id: &str) -> StoreResult<bool>;
    fn count(&self) -> StoreResult<u64>;
    fn list_clients(&self, offset: u64, limit: u64) -> StoreResult<Vec<Client>>;
    fn add_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool>;
    fn remove_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool>;
    fn count_owned(&self, account_id: &str) -> StoreResult<u64>;
    fn owned(&self, account_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<Client>>;
}

/// The `certificate-store` interface.
pub trait CertificateStore {
    fn link(&self, account_id: &str, cert: &Certificate) -> StoreResult<()>;
    fn set_proxy(
        &self,
        account_id: &str,
        subject_dn: &str,
        issuer_dn: &str,
        chain: &str,
        expiration: u64,
    ) -> StoreResult<()>;
}
