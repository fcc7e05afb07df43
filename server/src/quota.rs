//! Quotas (docs/PROTOCOL.md §3.5): an account's usage is the sum of the
//! sizes of the regular files under its home plus its kept partial
//! uploads; a STORE or RESUME whose size would take the usage over the
//! quota gets `552` before any data. Replacing a file counts the
//! difference, and an exact fit is allowed.
//!
//! The usage is measured afresh for each upload (a walk of the home, see
//! `storage::home` for what that costs and why there is no cache), on a
//! blocking thread, and only for identities with a quota.
//!
//! What an upload will add is known before its bytes arrive: its size,
//! less the file it replaces, less what its owner keeps of that path (a
//! STORE or RESUME discards or continues all of it). Uploads of one owner
//! in flight at once are not in the walk until they are committed, so each
//! one reserves what it adds until it ends ([`Reservation`]), and a check
//! counts the reservations of the others. The reservation is taken before
//! the walk: of two uploads checked at once, the later to reserve sees the
//! earlier, and an upload committed meanwhile is counted by the walk, its
//! reservation perhaps too (which errs towards `552`, never past the quota).

use crate::session::Identity;
use crate::{ServerError, Shared};
use ferry_proto::Path;
use std::collections::HashMap;
use std::sync::Mutex;

/// The bytes uploads in flight will add, per owner; shared by every
/// connection.
#[derive(Debug, Default)]
pub(crate) struct Reservations {
    by_owner: Mutex<HashMap<String, u64>>,
}

/// What one upload in flight will add to its owner's usage, held until
/// the upload ends (committed, kept or failed).
#[must_use = "the reservation ends when it is dropped"]
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    reservations: &'a Reservations,
    owner: String,
    bytes: u64,
}

impl Reservations {
    /// Reserves `bytes` for `owner`; returns what its other uploads in
    /// flight had reserved before.
    fn reserve(&self, owner: &str, bytes: u64) -> (Reservation<'_>, u64) {
        let mut by_owner = self.by_owner.lock().expect("never poisoned");
        let others = by_owner.get(owner).copied().unwrap_or(0);
        if bytes > 0 {
            by_owner.insert(owner.to_owned(), others.saturating_add(bytes));
        }
        let reservation = Reservation {
            reservations: self,
            owner: owner.to_owned(),
            bytes,
        };
        (reservation, others)
    }

    /// A reservation of nothing (an identity without a quota).
    fn none(&self) -> Reservation<'_> {
        Reservation {
            reservations: self,
            owner: String::new(),
            bytes: 0,
        }
    }

    #[cfg(test)]
    fn reserved(&self, owner: &str) -> u64 {
        let by_owner = self.by_owner.lock().expect("never poisoned");
        by_owner.get(owner).copied().unwrap_or(0)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut by_owner = self.reservations.by_owner.lock().expect("never poisoned");
        if let Some(reserved) = by_owner.get_mut(&self.owner) {
            *reserved = reserved.saturating_sub(self.bytes);
            if *reserved == 0 {
                by_owner.remove(&self.owner);
            }
        }
    }
}

/// Refuses an upload of `size` bytes to `path` (from the root, the home in
/// front) that would take `identity` over its quota; otherwise reserves
/// what it adds, until the returned reservation is dropped.
pub(crate) async fn check<'a>(
    shared: &'a Shared,
    identity: &Identity,
    path: &Path,
    size: u64,
) -> Result<Reservation<'a>, ServerError> {
    let reservations = &shared.reservations;
    let Some(quota) = identity.quota() else {
        return Ok(reservations.none());
    };
    let owner = identity.owner().key().to_owned();
    let leaving = shared.storage.leaving(owner.clone(), path.clone()).await?;
    let (reservation, others) = reservations.reserve(&owner, size.saturating_sub(leaving));
    let usage = shared
        .storage
        .usage(owner, identity.home().cloned())
        .await?;
    fits(quota, usage.saturating_add(others), leaving, size)?;
    Ok(reservation)
}

/// The most bytes an upload of unknown size to `path` may bring for
/// `identity` (`None`: it has no quota): the FTP door's STOR names no size,
/// so it is held to this as its bytes arrive. The bound is the one of
/// [`fits`], with what the owner's uploads in flight reserve counted as
/// usage; the FTP upload itself reserves nothing (what it will bring is
/// not known before it ends), so two of one owner at once may each take
/// the same room.
pub(crate) async fn room(
    shared: &Shared,
    identity: &Identity,
    path: &Path,
) -> Result<Option<u64>, ServerError> {
    let Some(quota) = identity.quota() else {
        return Ok(None);
    };
    let owner = identity.owner().key().to_owned();
    let others = {
        let by_owner = shared.reservations.by_owner.lock().expect("never poisoned");
        by_owner.get(&owner).copied().unwrap_or(0)
    };
    let leaving = shared.storage.leaving(owner.clone(), path.clone()).await?;
    let usage = shared
        .storage
        .usage(owner, identity.home().cloned())
        .await?;
    Ok(Some(largest_fit(
        quota,
        usage.saturating_add(others),
        leaving,
    )))
}

/// The largest size that [`fits`].
fn largest_fit(quota: u64, usage: u64, leaving: u64) -> u64 {
    leaving.saturating_add(quota.saturating_sub(usage))
}

/// Whether `usage`, less the `leaving` bytes an upload of `size` bytes
/// replaces (the file at its path, what is kept of it), plus those `size`
/// bytes, stays within `quota`. An upload that does not grow the usage
/// never takes it over the quota, so a home already over it (its quota
/// lowered since) may still shrink.
fn fits(quota: u64, usage: u64, leaving: u64, size: u64) -> Result<(), ServerError> {
    let after = usage.saturating_sub(leaving).saturating_add(size);
    if after > quota && after > usage {
        return Err(ServerError::OverQuota {
            size: size.saturating_sub(leaving),
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
    fn the_room_of_an_upload_of_unknown_size_is_the_largest_that_fits() {
        for (quota, usage, leaving) in [(100, 60, 0), (100, 100, 30), (10, 20, 5), (0, 0, 0)] {
            let room = largest_fit(quota, usage, leaving);
            assert!(
                fits(quota, usage, leaving, room).is_ok(),
                "{quota} {usage} {leaving}"
            );
            assert!(
                fits(quota, usage, leaving, room + 1).is_err(),
                "{quota} {usage} {leaving}"
            );
        }
    }

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

    #[test]
    fn reservations_add_up_per_owner_and_end_when_dropped() {
        let reservations = Reservations::default();
        let (first, before) = reservations.reserve("alice", 30);
        assert_eq!(before, 0);
        let (second, before) = reservations.reserve("alice", 20);
        assert_eq!(before, 30, "the later sees the earlier");
        let (other, before) = reservations.reserve("-", 5);
        assert_eq!(before, 0, "owners apart");
        assert_eq!(reservations.reserved("alice"), 50);
        drop(first);
        assert_eq!(reservations.reserved("alice"), 20);
        drop(second);
        drop(other);
        assert!(reservations.by_owner.lock().unwrap().is_empty());
        let (nothing, _) = reservations.reserve("alice", 0);
        assert!(reservations.by_owner.lock().unwrap().is_empty());
        drop(nothing);
        drop(reservations.none());
    }
}
