//! How many connections each client address holds at once, for the
//! `--max-per-address` of `ferry-server` and `ferry-bridge`.
//!
//! A global connection cap alone lets one client take every slot and lock
//! everyone else out; counting per address bounds what one client can hold
//! while the rest of the slots stay open to others. Both doors count the
//! same way, so the counter lives here: a slot is a guard that gives its
//! count back when dropped (with the connection, whatever ends it), and an
//! address whose count falls to zero leaves the map, so the map holds only
//! addresses with connections open.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Open connections per client address, each at most `limit`.
#[derive(Debug, Clone)]
pub struct PerAddress {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection counted against its address; dropping it gives the
/// count back.
#[derive(Debug)]
pub struct AddressSlot {
    addr: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// `addr` already holds the most connections allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressFull {
    /// The address.
    pub addr: IpAddr,
    /// The limit it reached.
    pub limit: usize,
}

impl PerAddress {
    /// At most `limit` connections per address at once.
    pub fn new(limit: usize) -> PerAddress {
        PerAddress {
            limit,
            open: Arc::default(),
        }
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A slot for one more connection from `addr`, unless it already holds
    /// `limit`. IPv4-mapped IPv6 addresses count as their IPv4 address.
    pub fn try_acquire(&self, addr: IpAddr) -> Result<AddressSlot, AddressFull> {
        let addr = addr.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(addr).or_insert(0);
        if *count >= self.limit {
            return Err(AddressFull {
                addr,
                limit: self.limit,
            });
        }
        *count += 1;
        Ok(AddressSlot {
            addr,
            open: Arc::clone(&self.open),
        })
    }

    /// Connections `addr` holds now.
    pub fn open(&self, addr: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&addr.to_canonical()).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.addr) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_address_apart_and_gives_slots_back() {
        let caps = PerAddress::new(2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let first = caps.try_acquire(a).unwrap();
        let _second = caps.try_acquire(a).unwrap();
        assert_eq!(
            caps.try_acquire(a).unwrap_err(),
            AddressFull { addr: a, limit: 2 }
        );
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(
            caps.try_acquire(mapped).is_err(),
            "the mapped form is the same address"
        );
        let _other = caps.try_acquire(b).unwrap();
        drop(first);
        assert_eq!(caps.open(a), 1);
        let _third = caps.try_acquire(a).unwrap();
        drop(_third);
        drop(_second);
        assert_eq!(caps.open(a), 0);
        assert!(
            caps.open.lock().unwrap().get(&a).is_none(),
            "emptied addresses leave the map"
        );
    }
}
