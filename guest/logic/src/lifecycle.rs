//! Account end times and the lifecycle job (docs/api.md §7).

use crate::attributes::{account_not_found, internal};
use crate::store::{Accounts, LabelStore};
use crate::types::{Error, Label, LifecycleSettings};

/// The unprefixed label the job keeps on expired accounts.
pub const STATUS_LABEL: &str = "lifecycle.status";
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;

pub fn set_end_time(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    id: &str,
    end_time: Option<u64>,
    settings: &LifecycleSettings,
) -> Result<(), Error> {
    if settings.read_only_end_time {
        return Err(Error::Invalid(
            "Account end time is read-only for this organization".into(),
        ));
    }
    let account = accounts
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| account_not_found(id))?;
    if account.end_time == end_time {
        return Ok(());
    }
    // A new end time starts the lifecycle afresh; it never re-activates a suspended account.
    labels.remove(id, None, STATUS_LABEL).map_err(internal)?;
    accounts.set_end_time(id, end_time).map_err(internal)?;
    accounts.touch(id).map_err(internal)
}

/// What one pass did, in the order of `lifecycle-report`.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub pending_suspension: u32,
    pub suspended: u32,
    pub removed: u32,
}

/// Sets the status label, touching the account only when it changes.
fn set_status(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    id: &str,
    status: &str,
) -> Result<(), Error> {
    let label = Label {
        prefix: None,
        name: STATUS_LABEL.into(),
        value: Some(status.into()),
    };
    if labels
        .find(id, None, STATUS_LABEL)
        .map_err(internal)?
        .as_ref()
        != Some(&label)
    {
        labels.put(id, &label).map_err(internal)?;
        accounts.touch(id).map_err(internal)?;
    }
    Ok(())
}

/// The job: every account whose end time is before today (UTC) is, once past the removal
/// grace period, deleted (when removal is enabled); else, once past the suspension grace
/// period, disabled and labelled `PENDING_REMOVAL` (or `SUSPENDED` when removal is off);
/// else labelled `PENDING_SUSPENSION`.
pub fn expire_accounts(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    now: u64,
    s: &LifecycleSettings,
) -> Result<Report, Error> {
    let check = now - now % DAY_MS;
    let past = |end: u64, days: u32| end.saturating_add(u64::from(days) * DAY_MS) < check;
    let mut report = Report::default();
    for account in accounts.expired_before(check).map_err(internal)? {
        let end = account.end_time.unwrap_or(0);
        let id = account.id.as_str();
        if s.removal_enabled && past(end, s.removal_grace_days) {
            accounts.delete(id).map_err(internal)?;
            report.removed += 1;
        } else if past(end, s.suspension_grace_days) {
            if account.active {
                accounts.set_active(id, false).map_err(internal)?;
                accounts.touch(id).map_err(internal)?;
                report.suspended += 1;
            }
            let status = if s.removal_enabled {
                "PENDING_REMOVAL"
            } else {
                "SUSPENDED"
            };
            set_status(accounts, labels, id, status)?;
        } else {
            set_status(accounts, labels, id, "PENDING_SUSPENSION")?;
            report.pending_suspension += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    fn settings(removal: bool, suspension_days: u32, removal_days: u32) -> LifecycleSettings {
        LifecycleSettings {
            read_only_end_time: false,
            removal_enabled: removal,
            suspension_grace_days: suspension_days,
            removal_grace_days: removal_days,
        }
    }

    fn status(s: &FakeStore, id: &str) -> Option<String> {
        s.find(id, None, STATUS_LABEL)
            .unwrap()
            .and_then(|l| l.value)
    }

    #[test]
    fn set_end_time_rules() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        let ro = LifecycleSettings {
            read_only_end_time: true,
            ..settings(true, 7, 30)
        };
        assert_eq!(
            set_end_time(&s, &s, &id, Some(1), &ro),
            Err(Error::Invalid(
                "Account end time is read-only for this organization".into()
            ))
        );
        let rw = settings(true, 7, 30);
        assert_eq!(
            set_end_time(&s, &s, "nobody", Some(1), &rw),
            Err(account_not_found("nobody"))
        );
        set_status(&s, &s, &id, "PENDING_SUSPENSION").unwrap();
        set_end_time(&s, &s, &id, Some(5), &rw).unwrap();
        assert_eq!(status(&s, &id), None, "a new end time clears the status");
        let touches = s.touches(&id);
        set_end_time(&s, &s, &id, Some(5), &rw).unwrap();
        assert_eq!(s.touches(&id), touches, "the same end time changes nothing");
        set_end_time(&s, &s, &id, None, &rw).unwrap();
        assert_eq!(Accounts::get(&s, &id).unwrap().unwrap().end_time, None);
    }

    #[test]
    fn the_job_follows_the_grace_periods() {
        let s = FakeStore::default();
        let now = 100 * DAY_MS + 3_600_000;
        let fresh = s.add_account("fresh"); // ended yesterday: within both grace periods
        let old = s.add_account("old"); // ended 10 days ago: past suspension only
        let ancient = s.add_account("ancient"); // ended 40 days ago: past removal
        let future = s.add_account("future");
        for (id, days) in [(&fresh, 1), (&old, 10), (&ancient, 40)] {
            s.set_end_time(id, Some(100 * DAY_MS - days * DAY_MS))
                .unwrap();
        }
        s.set_end_time(&future, Some(now + DAY_MS)).unwrap();

        let report = expire_accounts(&s, &s, now, &settings(true, 7, 30)).unwrap();
        assert_eq!(
            report,
            Report {
                pending_suspension: 1,
                suspended: 1,
                removed: 1
            }
        );
        assert_eq!(status(&s, &fresh).as_deref(), Some("PENDING_SUSPENSION"));
        assert_eq!(status(&s, &old).as_deref(), Some("PENDING_REMOVAL"));
        assert!(!Accounts::get(&s, &old).unwrap().unwrap().active);
        assert!(Accounts::get(&s, &ancient).unwrap().is_none());
        assert_eq!(status(&s, &future), None);

        // Again: nothing new to suspend; with removal off, suspended accounts say so.
        let report = expire_accounts(&s, &s, now, &settings(false, 7, 30)).unwrap();
        assert_eq!(
            report,
            Report {
                pending_suspension: 1,
                suspended: 0,
                removed: 0
            }
        );
        assert_eq!(status(&s, &old).as_deref(), Some("SUSPENDED"));

        // Zero grace periods act at once.
        let report = expire_accounts(&s, &s, now, &settings(true, 0, 0)).unwrap();
        assert_eq!(report.removed, 2);
    }
}
