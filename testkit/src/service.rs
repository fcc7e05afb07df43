//! A running service (the test server or the test bridge), in one of two
//! places. An asynchronous test runs it on its own runtime, as a task, so
//! the order in which the test and the service take turns stays what a
//! single-threaded runtime makes it. A synchronous test blocks its thread
//! (on a child process), so there the service gets a thread and a runtime
//! of its own. Either way it stops gracefully when asked, and at once when
//! dropped.

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
pub(crate) type Bound = (SocketAddr, Pin<Box<dyn Future<Output = Stopped> + Send>>);

/// The shutdown future a service's `run` is given: resolves when a graceful
/// stop is asked for (or the service is dropped).
pub(crate) struct StopSignal(oneshot::Receiver<()>);

impl Future for StopSignal {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(context).map(|_| ())
    }
}

/// A running service; dropping it stops it at once.
pub(crate) struct Service {
    pub(crate) addr: SocketAddr,
    /// Fires the graceful stop the service's `run` waits for.
    stop: Option<oneshot::Sender<()>>,
    /// `run`'s result once it has returned.
    outcome: Option<oneshot::Receiver<Stopped>>,
    /// Ends the service without waiting for anything (on drop).
    abort: Option<oneshot::Sender<()>>,
    /// The service's own thread, if it has one.
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The channels between a [`Service`] and the task running it.
struct Controls {
    stop: oneshot::Sender<()>,
    stop_signal: StopSignal,
    outcome: oneshot::Receiver<Stopped>,
    report_outcome: oneshot::Sender<Stopped>,
    abort: oneshot::Sender<()>,
    abort_requested: oneshot::Receiver<()>,
}

impl Controls {
    fn new() -> Controls {
        let (stop, stop_requested) = oneshot::channel();
        let (report_outcome, outcome) = oneshot::channel();
        let (abort, abort_requested) = oneshot::channel();
        Controls {
            stop,
            stop_signal: StopSignal(stop_requested),
            outcome,
            report_outcome,
            abort,
            abort_requested,
        }
    }
}

/// Runs `run` until it returns (reporting its result) or an abort comes.
async fn supervise(
    run: Pin<Box<dyn Future<Output = Stopped> + Send>>,
    abort_requested: oneshot::Receiver<()>,
    report_outcome: oneshot::Sender<Stopped>,
) {
    tokio::select! {
        result = run => {
            let _ = report_outcome.send(result);
        }
        _ = abort_requested => {}
    }
}

impl Service {
    /// Binds with `bind` and runs the service as a task of the caller's
    /// runtime.
    pub(crate) async fn on_this_runtime<F, Fut>(what: &str, bind: F) -> Service
    where
        F: FnOnce(StopSignal) -> Fut,
        Fut: Future<Output = Result<Bound, String>>,
    {
        let controls = Controls::new();
        let (addr, run) = bind(controls.stop_signal)
            .await
            .unwrap_or_else(|reason| panic!("the test {what} did not start: {reason}"));
        tokio::spawn(supervise(
            run,
            controls.abort_requested,
            controls.report_outcome,
        ));
        Service {
            addr,
            stop: Some(controls.stop),
            outcome: Some(controls.outcome),
            abort: Some(controls.abort),
            thread: None,
        }
    }

    /// Binds with `bind` on a new thread with its own runtime, waits until
    /// the service listens, and leaves it running there.
    pub(crate) fn on_own_thread<F, Fut>(what: &str, bind: F) -> Service
    where
        F: FnOnce(StopSignal) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Bound, String>>,
    {
        let controls = Controls::new();
        let (stop_signal, abort_requested, report_outcome) = (
            controls.stop_signal,
            controls.abort_requested,
            controls.report_outcome,
        );
        let (ready, bound) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("test {what}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a Tokio runtime for a test service");
                runtime.block_on(async move {
                    match bind(stop_signal).await {
                        Ok((addr, run)) => {
                            let _ = ready.send(Ok(addr));
                            supervise(run, abort_requested, report_outcome).await;
                        }
                        Err(reason) => {
                            let _ = ready.send(Err(reason));
                        }
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
        Service {
            addr,
            stop: Some(controls.stop),
            outcome: Some(controls.outcome),
            abort: Some(controls.abort),
            thread: Some(thread),
        }
    }

    /// Asks for a graceful stop; the receiver gets `run`'s result.
    pub(crate) fn begin_stop(&mut self) -> oneshot::Receiver<Stopped> {
        let _ = self.stop.take().expect("stopped once").send(());
        self.outcome.take().expect("stopped once")
    }
}

impl Drop for Service {
    /// Stops at once rather than gracefully: nothing left open at the end of
    /// a test is waited for.
    fn drop(&mut self) {
        if let Some(abort) = self.abort.take() {
            let _ = abort.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
