//! The relay's timers: the idle timeout, and on shutdown the wait for the
//! relay to go quiet (or for the grace to run out). Both read the time of the
//! last byte from [`Traffic`], so neither direction has to reset a timer.

use super::end::End;
use super::traffic::Traffic;
use crate::Limits;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Ends the relay when no bytes moved for the idle timeout, or, once the
/// bridge shuts down, as soon as the relay is quiet (or the grace is over).
pub(super) async fn run(traffic: &Traffic, limits: &Limits, shutdown: &CancellationToken) -> End {
    let idle = async {
        let Some(idle_timeout) = limits.idle_timeout else {
            return std::future::pending().await;
        };
        loop {
            let quiet = traffic.quiet_for();
            if quiet >= idle_timeout {
                return;
            }
            tokio::time::sleep(idle_timeout - quiet).await;
        }
    };
    let drained = async {
        shutdown.cancelled().await;
        let deadline = Instant::now() + limits.shutdown_grace;
        loop {
            let quiet = traffic.quiet_for();
            let now = Instant::now();
            if quiet >= limits.shutdown_quiet || now >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.min(now + (limits.shutdown_quiet - quiet))).await;
        }
    };
    tokio::select! {
        () = idle => End::Idle,
        () = drained => End::Shutdown,
    }
}
