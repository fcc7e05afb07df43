//! Quotas (docs/PROTOCOL.md §3.5): an account's usage is the sum of the
//! sizes of the regular files under its home plus its kept partial
//! uploads; a STORE or RESUME whose size would take the usage over the
//! quota gets `552` before any data. Replacing a file counts the
//! difference, and an exact fit is allowed.
//!
//! The usage is measured afresh for each upload (a walk of the home, see
//! `storage::home` for what that costs and why there is no cache), on a
//! blocking thread, and only for identities with a quota.

use crate::session::Identity;
use crate::storage::blocking;
use crate::{ServerError, Shared};
use ferry_proto::Path;
use std::sync::Arc;

/// Refuses an upload of `size` bytes to `path` (from the root, the home in
/// front) that would take `identity` over its quota.
pub(crate) async fn check(
    shared: &Shared,
    identity: &Identity,
    path: &Path,
    size: u64,
) -> Result<(), ServerError> {
    let Some(quota) = identity.quota() else {
        return Ok(());
    };
    let storage = Arc::clone(&shared.storage);
    let home = identity.home().cloned();
    let target = path.clone();
    let (usage, replaced) = blocking(move || {
        let files = storage.usage(home.as_ref())?;
        Ok((files, storage.replaced_size(&target)?))
    })
    .await?;
    fits(quota, usage, replaced, size)
}

/// Whether `usage`, less the `replaced` bytes of the file an upload of
/// `size` bytes replaces, plus those `size` bytes, stays within `quota`.
/// An upload that does not grow the usage never takes it over the quota,
/// so a home already over it (its quota lowered since) may still shrink.
fn fits(quota: u64, usage: u64, replaced: u64, size: u64) -> Result<(), ServerError> {
    let after = usage.saturating_sub(replaced).saturating_add(size);
    if after > quota && after > usage {
        return Err(ServerError::OverQuota {
            size: size.saturating_sub(replaced),
            usage,
            quota,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_fit_is_allowed_and_replacing_counts_the_difference() {
        assert!(fits(100, 60, 0, 40).is_ok(), "exact fit");
        assert!(matches!(
            fits(100, 60, 0, 41),
            Err(ServerError::OverQuota { quota: 100, .. })
        ));
        assert!(fits(100, 100, 30, 30).is_ok(), "same size again");
        assert!(fits(100, 100, 30, 31).is_err());
        assert!(fits(100, 90, 50, 60).is_ok());
        assert!(fits(0, 0, 0, 0).is_ok(), "an empty file in a zero quota");
        assert!(fits(0, 0, 0, 1).is_err());
        assert!(
            fits(10, 20, 0, 0).is_ok(),
            "already over: an empty file still fits"
        );
        assert!(
            fits(10, 20, 15, 6).is_ok(),
            "already over: shrinking is fine"
        );
        assert!(fits(10, 20, 0, 1).is_err());
        assert!(fits(u64::MAX, u64::MAX, 0, u64::MAX).is_ok());
        assert!(fits(u64::MAX - 1, u64::MAX - 1, 0, u64::MAX).is_err());
    }
}
