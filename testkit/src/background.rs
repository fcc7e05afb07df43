//! A service (the test server or the test bridge) on its own thread and
//! Tokio runtime. Synchronous tests block their thread on child processes,
//! and asynchronous ones may end their runtime at any time: on a thread of
//! its own the service keeps running in both cases until it is stopped.

use crate::STEP_TIMEOUT;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// How a service's `run` ended after a graceful stop: `Err` holds the error
/// in words.
pub type Stopped = Result<(), String>;

/// A bound service: its address and its `run`, not yet polled.
pub(crate) type Bound = (SocketAddr, Pin<Box<dyn Future<Output = Stopped>>>);

/// The shutdown future a service's `run` is given: resolves when a graceful
/// stop is asked for.
pub(crate) struct StopSignal(oneshot::Receiver<()>);

impl Future for StopSignal {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(context).map(|_| ())
    }
}

/// A running service; dropping it stops it at once.
pub(crate) struct Background {
    pub(crate) addr: SocketAddr,
    /// Fires the graceful stop the service's `run` waits for.
    stop: Option<oneshot::Sender<()>>,
    /// `run`'s result once it has returned.
    outcome: Option<oneshot::Receiver<Stopped>>,
    /// Ends the service without waiting for anything (on drop).
    abort: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Binds with `bind` on a new thread and waits until it is listening,
    /// then runs the service there until it is stopped.
    pub(crate) fn spawn<F, Fut>(what: &str, bind: F) -> Background
    where
        F: FnOnce(StopSignal) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bound, String>>,
    {
        let (stop, stop_requested) = oneshot::channel();
        let (abort, abort_requested) = oneshot::channel::<()>();
        let (report_outcome, outcome) = oneshot::channel();
        let (ready, bound) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("test {what}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a Tokio runtime for a test service");
                runtime.block_on(async move {
                    let run = match bind(StopSignal(stop_requested)).await {
                        Ok((addr, run)) => {
                            let _ = ready.send(Ok(addr));
                            run
                        }
                        Err(reason) => {
                            let _ = ready.send(Err(reason));
                            return;
                        }
                    };
                    tokio::select! {
                        result = run => {
                            let _ = report_outcome.send(result);
                        }
                        _ = abort_requested => {}
                    }
                });
                // Dropping the runtime here cuts every connection still open.
            })
            .expect("a thread for a test service");
        let addr = match bound.recv_timeout(STEP_TIMEOUT) {
            Ok(Ok(addr)) => addr,
            Ok(Err(reason)) => panic!("the test {what} did not start: {reason}"),
            Err(_) => panic!("the test {what} did not start within {STEP_TIMEOUT:?}"),
        };
        Background {
            addr,
            stop: Some(stop),
            outcome: Some(outcome),
            abort: Some(abort),
            thread: Some(thread),
        }
    }

    /// Asks for a graceful stop; the receiver gets `run`'s result.
    pub(crate) fn begin_stop(&mut self) -> oneshot::Receiver<Stopped> {
        let _ = self.stop.take().expect("stopped once").send(());
        self.outcome.take().expect("stopped once")
    }
}

impl Drop for Background {
    /// Stops at once rather than gracefully, as a test's own runtime ending
    /// would: nothing left open at the end of a test is waited for.
    fn drop(&mut self) {
        if let Some(abort) = self.abort.take() {
            let _ = abort.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
