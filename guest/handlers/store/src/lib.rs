//! The host's store imports behind the logic's store traits, shared by the default handler
//! components. Each component links only the imports its group's logic calls, so the
//! component imports only those interfaces: the attributes handler cannot reach the
//! authorities table, and only the handlers whose logic writes accounts or groups import
//! the write interfaces (`account-touch`, `account-lifecycle`, `account-writer`,
//! `group-writer`, `authority-writer`, `manager-store`). The host checks this at load like any site's component.

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        inline: "
            package iam:default-handlers;
            world store {
                import iam:plugin/accounts@0.1.0;
                import iam:plugin/account-touch@0.1.0;
                import iam:plugin/account-lifecycle@0.1.0;
                import iam:plugin/account-writer@0.1.0;
                import iam:plugin/attribute-store@0.1.0;
                import iam:plugin/authority-store@0.1.0;
                import iam:plugin/authority-writer@0.1.0;
                import iam:plugin/manager-store@0.1.0;
                import iam:plugin/label-store@0.1.0;
                import iam:plugin/group-store@0.1.0;
                import iam:plugin/group-writer@0.1.0;
                import iam:plugin/membership-store@0.1.0;
                import iam:plugin/certificate-store@0.1.0;
                import iam:plugin/client-store@0.1.0;
            }
        ",
        world: "iam:default-handlers/store",
        with: { "iam:plugin/types@0.1.0": iam_guest_logic::types },
        generate_all,
    });
}

use crate::bindings::iam::plugin::{
    account_lifecycle, account_touch, account_writer, accounts, attribute_store, authority_store,
    authority_writer, certificate_store, client_store, group_store, group_writer, label_store,
    manager_store, membership_store,
};
use iam_guest_logic::store::{
    AccountCreate, AccountUpdate, Accounts, AttributeStore, AuthorityStore, CertificateStore,
    ClientCreate, ClientStore, GroupStore, LabelStore, ManagerStore, MembershipStore, StoreResult,
};
use iam_guest_logic::types::{
    Account, AccountOrder, Attribute, Certificate, Client, Group, GroupRef, Label, LabelFilter,
    OidcId, Profile, SamlId, SshKey, User,
};

/// The host's database, reached through the component's imports.
pub struct HostStore;

impl Accounts for HostStore {
    fn get(&self, id: &str) -> StoreResult<Option<Account>> {
        accounts::get(id)
    }
    fn get_user(&self, id: &str) -> StoreResult<Option<User>> {
        accounts::get_user(id)
    }
    fn find_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        accounts::find_by_username(username)
    }
    fn find_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        accounts::find_by_email(email)
    }
    fn create(&self, new: AccountCreate) -> StoreResult<Account> {
        account_writer::create(&account_writer::AccountCreate {
            id: new.id,
            username: new.username,
            given_name: new.given_name,
            family_name: new.family_name,
            email: new.email,
            active: new.active,
            password: new.password,
        })
    }
    fn update(&self, id: &str, c: AccountUpdate) -> StoreResult<Account> {
        account_writer::update(
            id,
            &account_writer::AccountUpdate {
                username: c.username,
                given_name: c.given_name,
                family_name: c.family_name,
                email: c.email,
                active: c.active,
                password: c.password,
            },
        )
    }
    fn delete(&self, id: &str) -> StoreResult<bool> {
        account_lifecycle::delete(id)
    }
    fn touch(&self, id: &str) -> StoreResult<()> {
        account_touch::touch(id)
    }
    fn set_end_time(&self, id: &str, end_time: Option<u64>) -> StoreResult<()> {
        account_lifecycle::set_end_time(id, end_time)
    }
    fn set_active(&self, id: &str, active: bool) -> StoreResult<()> {
        account_lifecycle::set_active(id, active)
    }
    fn expired_before(&self, time: u64) -> StoreResult<Vec<Account>> {
        accounts::expired_before(time)
    }
    fn count(&self) -> StoreResult<u64> {
        accounts::count()
    }
    fn list_users(&self, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        accounts::list_users(offset, limit)
    }
    fn count_matching(&self, pattern: Option<&str>) -> StoreResult<u64> {
        accounts::count_matching(pattern)
    }
    fn search(
        &self,
        pattern: Option<&str>,
        order: AccountOrder,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        accounts::search(pattern, order, descending, offset, limit)
    }
    fn find_by_oidc_id(&self, id: &OidcId) -> StoreResult<Option<Account>> {
        accounts::find_by_oidc_id(id)
    }
    fn find_by_saml_id(&self, id: &SamlId) -> StoreResult<Option<Account>> {
        accounts::find_by_saml_id(id)
    }
    fn find_by_ssh_fingerprint(&self, fingerprint: &str) -> StoreResult<Option<Account>> {
        accounts::find_by_ssh_fingerprint(fingerprint)
    }
    fn find_by_certificate(
        &self,
        subject_dn: &str,
        issuer_dn: &str,
    ) -> StoreResult<Option<Account>> {
        accounts::find_by_certificate(subject_dn, issuer_dn)
    }
    fn set_identities(
        &self,
        id: &str,
        oidc: &[OidcId],
        saml: &[SamlId],
        ssh: &[SshKey],
        certificates: &[Certificate],
    ) -> StoreResult<()> {
        account_writer::set_identities(id, oidc, saml, ssh, certificates)
    }
    fn set_profile(&self, id: &str, profile: &Profile) -> StoreResult<()> {
        account_writer::set_profile(id, profile)
    }
    fn find_by_cert_subject(&self, subject: &str) -> StoreResult<Option<Account>> {
        accounts::find_by_cert_subject(subject)
    }
    fn count_with_label(&self, label: &LabelFilter) -> StoreResult<u64> {
        accounts::count_with_label(label)
    }
    fn with_label(&self, label: &LabelFilter, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        accounts::with_label(label, offset, limit)
    }
    fn count_in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
    ) -> StoreResult<u64> {
        accounts::count_in_group(group_id, member, pattern)
    }
    fn in_group(
        &self,
        group_id: &str,
        member: bool,
        pattern: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        accounts::in_group(group_id, member, pattern, offset, limit)
    }
    fn count_with_authority_ignoring_case(&self, authority: &str) -> StoreResult<u64> {
        accounts::count_with_authority_ignoring_case(authority)
    }
    fn with_authority_ignoring_case(
        &self,
        authority: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<User>> {
        accounts::with_authority_ignoring_case(authority, offset, limit)
    }
    fn members_of(&self, group_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<User>> {
        accounts::members_of(group_id, offset, limit)
    }
    fn with_authority(&self, authority: &str) -> StoreResult<Vec<User>> {
        accounts::with_authority(authority)
    }
}

impl AttributeStore for HostStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Attribute>> {
        attribute_store::get_all(account_id)
    }
    fn put(&self, account_id: &str, attr: &Attribute) -> StoreResult<()> {
        attribute_store::put(account_id, attr)
    }
    fn remove(&self, account_id: &str, name: &str) -> StoreResult<bool> {
        attribute_store::remove(account_id, name)
    }
}

impl GroupStore for HostStore {
    fn get(&self, id: &str) -> StoreResult<Option<Group>> {
        group_store::get(id)
    }
    fn find_by_name(&self, name: &str) -> StoreResult<Option<Group>> {
        group_store::find_by_name(name)
    }
    fn create(&self, name: &str, parent_id: Option<&str>) -> StoreResult<Group> {
        group_writer::create(name, parent_id)
    }
    fn set_description(&self, id: &str, description: Option<&str>) -> StoreResult<Group> {
        group_writer::set_description(id, description)
    }
    fn rename(&self, id: &str, name: &str) -> StoreResult<Group> {
        group_writer::rename(id, name)
    }
    fn delete(&self, id: &str) -> StoreResult<bool> {
        group_writer::delete(id)
    }
    fn count_members(&self, id: &str) -> StoreResult<u64> {
        group_store::count_members(id)
    }
    fn count_subgroups(&self, id: &str) -> StoreResult<u64> {
        group_store::count_subgroups(id)
    }
    fn count(&self) -> StoreResult<u64> {
        group_store::count()
    }
    fn list_groups(&self, offset: u64, limit: u64) -> StoreResult<Vec<Group>> {
        group_store::list_groups(offset, limit)
    }
    fn count_matching(&self, text: Option<&str>) -> StoreResult<u64> {
        group_store::count_matching(text)
    }
    fn search(
        &self,
        text: Option<&str>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<Group>> {
        group_store::search(text, descending, offset, limit)
    }
    fn subgroups(&self, id: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRef>> {
        group_store::subgroups(id, offset, limit)
    }
    fn all_refs(&self) -> StoreResult<Vec<GroupRef>> {
        group_store::all_refs()
    }
    fn touch(&self, id: &str) -> StoreResult<()> {
        group_writer::touch(id)
    }
}

impl AuthorityStore for HostStore {
    fn of_account(&self, account_id: &str) -> StoreResult<Vec<String>> {
        authority_store::of_account(account_id)
    }
    fn exists(&self, authority: &str) -> StoreResult<bool> {
        authority_store::exists(authority)
    }
    fn grant(&self, account_id: &str, authority: &str) -> StoreResult<bool> {
        authority_writer::grant(account_id, authority)
    }
    fn revoke(&self, account_id: &str, authority: &str) -> StoreResult<bool> {
        authority_writer::revoke(account_id, authority)
    }
}

impl ManagerStore for HostStore {
    fn appoint(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        manager_store::appoint(account_id, group_id)
    }
    fn dismiss(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        manager_store::dismiss(account_id, group_id)
    }
}

impl LabelStore for HostStore {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<Label>> {
        label_store::get_all(account_id)
    }
    fn find(
        &self,
        account_id: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>> {
        label_store::find(account_id, prefix, name)
    }
    fn put(&self, account_id: &str, label: &Label) -> StoreResult<()> {
        label_store::put(account_id, label)
    }
    fn remove(&self, account_id: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool> {
        label_store::remove(account_id, prefix, name)
    }
}

impl MembershipStore for HostStore {
    fn ancestors(&self, group_id: &str) -> StoreResult<Vec<String>> {
        membership_store::ancestors(group_id)
    }
    fn descendants(&self, group_id: &str) -> StoreResult<Vec<String>> {
        membership_store::descendants(group_id)
    }
    fn add(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        membership_store::add(account_id, group_id)
    }
    fn remove(&self, account_id: &str, group_id: &str) -> StoreResult<bool> {
        membership_store::remove(account_id, group_id)
    }
}

impl ClientStore for HostStore {
    fn get(&self, client_id: &str) -> StoreResult<Option<Client>> {
        client_store::get(client_id)
    }
    fn create(&self, c: ClientCreate) -> StoreResult<(Client, Option<String>)> {
        let created = client_store::create(&client_store::ClientCreate {
            client_id: c.client_id,
            secret: c.secret,
            generate_secret: c.generate_secret,
            client_name: c.client_name,
            client_description: c.client_description,
            scope: c.scope,
            grant_types: c.grant_types,
            redirect_uris: c.redirect_uris,
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            active: c.active,
            access_token_validity: c.access_token_validity,
            refresh_token_validity: c.refresh_token_validity,
        })?;
        Ok((created.client, created.secret))
    }
    fn delete(&self, client_id: &str) -> StoreResult<bool> {
        client_store::delete(client_id)
    }
    fn count(&self) -> StoreResult<u64> {
        client_store::count()
    }
    fn list_clients(&self, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        client_store::list_clients(offset, limit)
    }
    fn add_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool> {
        client_store::add_owner(client_id, account_id)
    }
    fn remove_owner(&self, client_id: &str, account_id: &str) -> StoreResult<bool> {
        client_store::remove_owner(client_id, account_id)
    }
    fn count_owned(&self, account_id: &str) -> StoreResult<u64> {
        client_store::count_owned(account_id)
    }
    fn owned(&self, account_id: &str, offset: u64, limit: u64) -> StoreResult<Vec<Client>> {
        client_store::owned(account_id, offset, limit)
    }
}

impl CertificateStore for HostStore {
    fn link(&self, account_id: &str, cert: &Certificate) -> StoreResult<()> {
        certificate_store::link(account_id, cert)
    }
    fn set_proxy(
        &self,
        account_id: &str,
        subject_dn: &str,
        issuer_dn: &str,
        chain: &str,
        expiration: u64,
    ) -> StoreResult<()> {
        certificate_store::set_proxy(account_id, subject_dn, issuer_dn, chain, expiration)
    }
}
