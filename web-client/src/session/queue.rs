//! The queue between the session (the components' calls) and the
//! connection's task. The page has one thread, so it is a shared
//! `VecDeque` and the task's waker rather than a thread-safe channel
//! (futures' mpsc was about 1 KB of the page's WebAssembly); it behaves as
//! that channel did: sending fails once the task has closed it, and the
//! task sees the end of the queue once the session's end is dropped.

use super::Request;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Shared {
    requests: VecDeque<Request>,
    /// The task, waiting for a request.
    waker: Option<Waker>,
    /// The session's end was dropped.
    dropped: bool,
    /// The task takes no more requests.
    closed: bool,
}

impl Shared {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The session's end: queues requests for the task.
pub struct Sender(Rc<RefCell<Shared>>);

/// The task's end: takes the requests in order.
pub struct Receiver(Rc<RefCell<Shared>>);

/// A new, empty queue.
pub fn channel() -> (Sender, Receiver) {
    let shared = Rc::new(RefCell::new(Shared::default()));
    (Sender(shared.clone()), Receiver(shared))
}

impl Sender {
    /// Queues `request`; `false` once the task has closed the queue.
    pub fn send(&self, request: Request) -> bool {
        let mut shared = self.0.borrow_mut();
        if shared.closed {
            return false;
        }
        shared.requests.push_back(request);
        shared.wake();
        true
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut shared = self.0.borrow_mut();
        shared.dropped = true;
        shared.wake();
    }
}

impl Receiver {
    /// The next request if one is queued.
    pub fn try_next(&mut self) -> Option<Request> {
        self.0.borrow_mut().requests.pop_front()
    }

    /// The next request, or `None` once the session's end is gone and
    /// nothing is queued.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Request>> {
        let mut shared = self.0.borrow_mut();
        if let Some(request) = shared.requests.pop_front() {
            return Poll::Ready(Some(request));
        }
        if shared.dropped {
            return Poll::Ready(None);
        }
        shared.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Takes no more requests: sending fails from now on.
    pub fn close(&mut self) {
        self.0.borrow_mut().closed = true;
    }
}
