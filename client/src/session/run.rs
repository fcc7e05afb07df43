//! The one loop that drives a command: start it in the driver, move bytes
//! between the transport, the driver and the caller's sink or source until
//! the exchange's one outcome, and turn what goes wrong into a [`ClientError`].

use super::{Session, Transfer, TransferProgress};
use crate::transport::Transport;
use crate::ClientError;
use bytes::{Bytes, BytesMut};
use ferry_proto::{Command, Event, Exchange, ProtoError, Verb};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tracing::{debug, info};

/// How long to wait for an explanation after a write to the server failed.
const EXPLAIN_WAIT: Duration = Duration::from_millis(500);

impl<T: Transport> Session<T> {
    /// Runs one command to its end: the one loop behind every command method.
    /// File bytes go to or come from `transfer`; the session is marked
    /// unusable if the error is fatal.
    pub async fn run<E: Exchange>(
        &mut self,
        exchange: &E,
        transfer: Transfer<'_>,
        progress: &mut dyn TransferProgress,
    ) -> Result<E::Success, ClientError> {
        let result = self.drive(exchange, transfer, progress).await;
        if let Err(error) = &result {
            if error.is_fatal() {
                debug!(peer = %self.peer, %error, "session unusable");
                self.broken = true;
            }
        }
        result
    }

    /// [`Session::run`] before the session is marked unusable on a fatal error.
    async fn drive<E: Exchange>(
        &mut self,
        exchange: &E,
        mut transfer: Transfer<'_>,
        progress: &mut dyn TransferProgress,
    ) -> Result<E::Success, ClientError> {
        let command = exchange.command();
        let subject = exchange.subject();
        self.start_command(&command, subject).await?;
        let mut received_data = false;
        loop {
            match (self.next_event().await?, &mut transfer) {
                (Event::Incoming { len, .. }, Transfer::Sink(_)) => {
                    received_data = true;
                    progress.start(len);
                }
                (Event::Data(bytes), Transfer::Sink(sink)) => {
                    sink.write_all(&bytes)
                        .await
                        .map_err(|source| ClientError::Output { source })?;
                    progress.advance(bytes.len() as u64);
                }
                // A LIST's data is gathered by the driver into its `Done`.
                (Event::Incoming { .. }, Transfer::None) if command.verb() == Verb::List => {}
                (Event::Send { len, .. }, Transfer::Source(source)) => {
                    // RESUME names the whole size; the server needs its last `len` bytes.
                    let whole = match &command {
                        Command::Resume { size, .. } => *size,
                        _ => len,
                    };
                    progress.start(whole);
                    let kept = whole.saturating_sub(len);
                    if kept > 0 {
                        self.pass_over(&mut **source, kept).await?;
                        progress.resumed(kept);
                    }
                    self.upload(&mut **source, len, subject, progress).await?;
                }
                (Event::Done(outcome), transfer) => {
                    if let (Transfer::Sink(sink), true) = (transfer, received_data) {
                        sink.flush()
                            .await
                            .map_err(|source| ClientError::Output { source })?;
                    }
                    return match outcome {
                        Ok(done) => {
                            info!(peer = %self.peer, command = %command, reply = %done.reply, "command done");
                            exchange.success(done).map_err(ClientError::Protocol)
                        }
                        Err(refusal) => {
                            info!(peer = %self.peer, command = %command, reply = %refusal.reply, "command failed");
                            Err(ClientError::refused(refusal, subject))
                        }
                    };
                }
                (event, _) => {
                    let what = unasked(&event);
                    return Err(unexpected(&format!("{what} in answer to {command}")));
                }
            }
        }
    }

    /// Sends exactly `size` bytes read from `source`; abandons the upload
    /// (closing the connection) if `source` ends early.
    async fn upload(
        &mut self,
        source: &mut (dyn AsyncRead + Unpin + Send),
        size: u64,
        subject: Option<&str>,
        progress: &mut dyn TransferProgress,
    ) -> Result<(), ClientError> {
        let chunk = self.options.upload_chunk.max(1);
        let mut buffer = BytesMut::new();
        let mut sent = 0u64;
        while sent < size {
            let want = usize::try_from(size - sent).map_or(chunk, |left| left.min(chunk));
            buffer.reserve(want);
            let read = (&mut *source)
                .take(want as u64)
                .read_buf(&mut buffer)
                .await
                .map_err(|source| ClientError::Input { source })?;
            if read == 0 {
                self.transport.close().await;
                return Err(ClientError::ShortInput {
                    expected: size,
                    actual: sent,
                });
            }
            self.send_bytes(buffer.split().freeze(), subject).await?;
            sent += read as u64;
            progress.advance(read as u64);
        }
        Ok(())
    }

    /// Reads and drops the first `kept` bytes of `source` (the part of a
    /// RESUME the server already holds), closing the connection if
    /// `source` is shorter: the server is then sent nothing.
    async fn pass_over(
        &mut self,
        source: &mut (dyn AsyncRead + Unpin + Send),
        kept: u64,
    ) -> Result<(), ClientError> {
        let skipped = tokio::io::copy(&mut (&mut *source).take(kept), &mut tokio::io::sink())
            .await
            .map_err(|source| ClientError::Input { source })?;
        if skipped < kept {
            self.transport.close().await;
            return Err(ClientError::ShortInput {
                expected: kept,
                actual: skipped,
            });
        }
        Ok(())
    }

    /// Starts `command` in the driver and sends it.
    async fn start_command(
        &mut self,
        command: &Command,
        subject: Option<&str>,
    ) -> Result<(), ClientError> {
        if self.broken {
            return Err(ClientError::Disconnected);
        }
        let bytes = self.driver.start(command).map_err(|error| match error {
            ProtoError::Closed => ClientError::Disconnected,
            other => ClientError::Protocol(other),
        })?;
        debug!(peer = %self.peer, command = %command, "sending");
        self.send_bytes(Bytes::from(bytes), subject).await
    }

    /// Writes to the server; if that fails, the server may have said why
    /// before closing (e.g. `421 Idle timeout`), so a waiting refusal is
    /// preferred as the explanation.
    async fn send_bytes(&mut self, bytes: Bytes, subject: Option<&str>) -> Result<(), ClientError> {
        let timeout = self.options.io_timeout;
        let error = match tokio::time::timeout(timeout, self.transport.send(bytes)).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => ClientError::Timeout {
                seconds: timeout.as_secs(),
            },
        };
        if let Ok(Ok(Event::Done(Err(refusal)))) =
            tokio::time::timeout(EXPLAIN_WAIT, self.next_event()).await
        {
            return Err(ClientError::refused(refusal, subject));
        }
        Err(error)
    }

    /// The next event from the driver, reading from the transport as needed.
    pub(super) async fn next_event(&mut self) -> Result<Event, ClientError> {
        loop {
            if let Some(event) = self.driver.poll().map_err(ClientError::from_proto)? {
                return Ok(event);
            }
            let timeout = self.options.io_timeout;
            let chunk = tokio::time::timeout(timeout, self.transport.recv())
                .await
                .map_err(|_| ClientError::Timeout {
                    seconds: timeout.as_secs(),
                })??;
            match chunk {
                Some(chunk) => self.driver.feed(chunk),
                None => {
                    self.driver.end().map_err(ClientError::from_proto)?;
                    return Err(ClientError::ClosedByServer);
                }
            }
        }
    }
}

/// What an event the caller's [`Transfer`] has no place for was, in words.
fn unasked(event: &Event) -> &'static str {
    match event {
        Event::Greeting(_) => "a second greeting",
        Event::Incoming { .. } | Event::Data(_) => "file data",
        Event::Send { .. } => "a request for file data",
        Event::Closing(_) => "a close",
        Event::Done(_) => "the end of an exchange",
    }
}

/// A protocol error for an event that cannot answer the command in flight.
pub(super) fn unexpected(what: &str) -> ClientError {
    ClientError::Protocol(ProtoError::UnexpectedReply(what.to_owned()))
}
