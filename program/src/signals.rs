//! Ctrl-C and SIGTERM: the first asks for a graceful stop, the second ends
//! the program at once.
//!
//! A graceful stop can take a while (transfers get a grace period), and a
//! person who presses Ctrl-C again means "now". The watching runs on a
//! thread of its own with its own small runtime, so the second signal is
//! acted on whatever the program's runtime is doing — even when it is not
//! being driven at all, as in the client's cleanup after `block_on`.

use anyhow::Context;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Exit status when a second signal cuts the graceful stop short: 128 +
/// SIGINT, what shells report for an interrupted program.
pub const INTERRUPTED: i32 = 130;

/// The signal handlers, installed; [`requested`](Self::requested) resolves
/// at the first Ctrl-C or SIGTERM.
#[derive(Debug)]
pub struct ShutdownSignals {
    first: oneshot::Receiver<()>,
}

impl ShutdownSignals {
    /// Installs the handlers and starts watching. Call this before the
    /// program announces that it is ready, so no signal is missed (from
    /// here on, Ctrl-C no longer kills the process by default).
    pub fn install() -> anyhow::Result<ShutdownSignals> {
        let (first_sender, first) = oneshot::channel();
        let (installed_sender, installed) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("shutdown-signals".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build();
                let setup = runtime.and_then(|runtime| {
                    let signals = runtime.block_on(async { StopSignals::install() })?;
                    Ok((runtime, signals))
                });
                let (runtime, signals) = match setup {
                    Ok(ready) => {
                        let _ = installed_sender.send(Ok(()));
                        ready
                    }
                    Err(error) => {
                        let _ = installed_sender.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(watch(signals, first_sender, || {
                    std::process::exit(INTERRUPTED)
                }));
            })
            .context("cannot install signal handlers")?;
        installed
            .recv()
            .context("cannot install signal handlers")?
            .context("cannot install signal handlers")?;
        Ok(ShutdownSignals { first })
    }

    /// Resolves at the first Ctrl-C or SIGTERM; from then on, another one
    /// exits the process with [`INTERRUPTED`].
    pub async fn requested(self) {
        if self.first.await.is_err() {
            // The watcher is gone (it cannot be, short of a panic): no signal
            // will ever be reported, so never claim one was.
            std::future::pending::<()>().await;
        }
    }
}

/// Where stop requests come from: the operating system's signals, or a
/// channel in the tests.
trait StopRequests {
    /// Waits for the next request.
    async fn next(&mut self);
}

/// Ctrl-C (SIGINT) and SIGTERM.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Registers the handlers; must run inside the watcher's runtime.
    fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }
}

impl StopRequests for StopSignals {
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The rule itself: the first request is passed on through `first`, the
/// second calls `exit_now`.
async fn watch(
    mut requests: impl StopRequests,
    first: oneshot::Sender<()>,
    exit_now: impl FnOnce(),
) {
    requests.next().await;
    tracing::info!("shutdown requested; press Ctrl-C again to stop at once");
    let _ = first.send(());
    requests.next().await;
    tracing::warn!("second signal: exiting immediately");
    exit_now();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

    /// Stop requests sent by the test.
    struct Requests(UnboundedReceiver<()>);

    impl StopRequests for Requests {
        async fn next(&mut self) {
            if self.0.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
    }

    #[tokio::test]
    async fn the_first_request_stops_gracefully_and_the_second_at_once() {
        let (request, requests) = unbounded_channel();
        let (first_sender, mut first) = oneshot::channel();
        let exited = Arc::new(AtomicBool::new(false));
        let watcher = tokio::spawn(watch(Requests(requests), first_sender, {
            let exited = exited.clone();
            move || exited.store(true, Ordering::SeqCst)
        }));

        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(first.try_recv().is_err(), "no request yet");

        request.send(()).unwrap();
        first.await.expect("the first request is passed on");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!exited.load(Ordering::SeqCst), "one request is not an exit");
        assert!(!watcher.is_finished());

        request.send(()).unwrap();
        watcher.await.unwrap();
        assert!(exited.load(Ordering::SeqCst), "the second request exits");
    }
}
