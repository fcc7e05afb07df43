//! The client side of a connection as one state machine: the only place
//! where a client decides what the server's bytes mean.
//!
//! Shaped like quinn-proto: no I/O, bytes in through [`ClientDriver::feed`],
//! owned [`Event`]s out through [`ClientDriver::poll`]. Data bytes come out
//! as [`Bytes`] slices of what was fed, so a download is never copied here.
//! The call order is:
//!
//! 1. [`ClientDriver::new`], then feed what arrives and poll until `None`;
//!    the first event is [`Event::Greeting`] (or [`Event::Closing`]).
//! 2. [`ClientDriver::start`] a command and write the bytes it returns.
//! 3. Feed and poll; the command's exchange ends with exactly one
//!    [`Event::Done`], holding `Ok(Done)` or `Err(Refusal)`. Before it may
//!    come [`Event::Incoming`] and then [`Event::Data`] (RETRIEVE and READ;
//!    a LIST's data is gathered into its `Done`) or [`Event::Send`] (STORE
//!    and RESUME: write exactly that many bytes of the file, for RESUME its
//!    last ones).
//!    A typed [`Exchange`](crate::Exchange) turns the `Done` into its result.
//! 4. At end of stream call [`ClientDriver::end`]: it says whether the
//!    stream ended cleanly or cut an exchange short.
//!
//! Feed again only once `poll` has returned `None`; bytes fed earlier are
//! kept (and copied together), so nothing is lost if a caller does not.

use crate::{codes, Command, LineDecoder, LineEvent, ProtoError, Refusal, Reply, Verb};
use bytes::{Bytes, BytesMut};

/// Largest `LIST` body accepted by default: a listing is held in memory.
pub const DEFAULT_MAX_LISTING_LEN: u64 = 64 * 1024 * 1024;

/// What the server's bytes amounted to, in the order they arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The `220` greeting: commands may be started.
    Greeting(Reply),
    /// `150` for RETRIEVE, READ or LIST: `len` data bytes follow.
    /// RETRIEVE's and READ's come as [`Event::Data`]; LIST's are gathered
    /// into [`Done::body`].
    Incoming {
        /// The `150` reply itself (for a console that shows every reply).
        reply: Reply,
        /// The number of data bytes announced.
        len: u64,
    },
    /// A slice of the data announced by [`Event::Incoming`].
    Data(Bytes),
    /// `150` for STORE or RESUME: write exactly `len` raw bytes now (for
    /// RESUME, the last `len` bytes of the file).
    Send {
        /// The `150` reply itself.
        reply: Reply,
        /// STORE: the size named in the command; RESUME: the byte count of
        /// the `150`.
        len: u64,
    },
    /// The exchange of the command in flight ended.
    Done(Result<Done, Refusal>),
    /// The server is closing the session between commands (`421`): e.g.
    /// too many connections at connect, or an idle timeout.
    Closing(Reply),
}

/// A successful end of an exchange, for [`Exchange::success`](crate::Exchange::success).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The command's verb.
    pub verb: Verb,
    /// The final `2xx` reply (or `3xx`: `331` to USER).
    pub reply: Reply,
    /// The collected data bytes of a LIST (empty for other commands).
    pub body: Vec<u8>,
}

/// What the data announced by a `150` is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    /// Handed to the caller as [`Event::Data`] (RETRIEVE, READ).
    Stream,
    /// Gathered into [`Done::body`] (LIST).
    Collect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Greeting,
    Idle,
    /// A command was sent; its first reply has not come yet.
    Waiting {
        verb: Verb,
        store_size: u64,
    },
    /// Data bytes announced by `150` are arriving.
    Receiving {
        verb: Verb,
        data: Data,
        len: u64,
        received: u64,
    },
    /// Only the final reply of the command in flight is missing.
    Final {
        verb: Verb,
    },
    Closed,
}

impl State {
    /// Where a command stands once `received` of its `len` data bytes are in:
    /// still receiving, or waiting for its final reply.
    fn after_data(verb: Verb, data: Data, len: u64, received: u64) -> State {
        if received == len {
            State::Final { verb }
        } else {
            State::Receiving {
                verb,
                data,
                len,
                received,
            }
        }
    }
}

/// The client's protocol state: one command in flight at a time.
#[derive(Debug, Clone)]
pub struct ClientDriver {
    lines: LineDecoder,
    state: State,
    /// Fed bytes not yet consumed.
    input: Bytes,
    /// The LIST body gathered so far.
    body: Vec<u8>,
    max_listing_len: u64,
}

impl Default for ClientDriver {
    fn default() -> Self {
        ClientDriver::new()
    }
}

impl ClientDriver {
    /// A driver for a connection that has just been opened (greeting pending).
    pub fn new() -> ClientDriver {
        ClientDriver {
            lines: LineDecoder::default(),
            state: State::Greeting,
            input: Bytes::new(),
            body: Vec::new(),
            max_listing_len: DEFAULT_MAX_LISTING_LEN,
        }
    }

    /// Sets the largest LIST body accepted; a larger `150` is a
    /// [`ProtoError::ListingTooLarge`].
    pub fn with_max_listing_len(mut self, max: u64) -> ClientDriver {
        self.max_listing_len = max;
        self
    }

    /// Starts `command`; returns the bytes to send.
    ///
    /// Fails with [`ProtoError::Busy`] before the greeting or while another
    /// command is in flight, and with [`ProtoError::Closed`] once closed.
    pub fn start(&mut self, command: &Command) -> Result<Vec<u8>, ProtoError> {
        match self.state {
            State::Idle => {}
            State::Closed => return Err(ProtoError::Closed),
            _ => return Err(ProtoError::Busy),
        }
        let store_size = match command {
            Command::Store { size, .. } | Command::Resume { size, .. } => *size,
            _ => 0,
        };
        self.state = State::Waiting {
            verb: command.verb(),
            store_size,
        };
        Ok(command.encode())
    }

    /// Whether a command may be started now.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Whether the session is over (after `221`, `421`, an error or [`ClientDriver::end`]).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The verb of the command in flight, if any.
    pub fn in_flight(&self) -> Option<Verb> {
        match self.state {
            State::Waiting { verb, .. } | State::Receiving { verb, .. } | State::Final { verb } => {
                Some(verb)
            }
            _ => None,
        }
    }

    /// Data bytes of a RETRIEVE or READ still to come, once every fed byte
    /// has been polled: a caller that keeps downloads out of its own memory
    /// (the web client, whose bytes stay in the browser's buffers) takes up
    /// to this many bytes of the stream itself and reports them with
    /// [`ClientDriver::skip_data`] instead of feeding them. `0` otherwise.
    pub fn data_left(&self) -> u64 {
        match self.state {
            State::Receiving {
                data: Data::Stream,
                len,
                received,
                ..
            } if self.input.is_empty() => len - received,
            _ => 0,
        }
    }

    /// The caller took the next `n` data bytes of the stream itself (see
    /// [`ClientDriver::data_left`]); the driver counts them as received.
    /// More than `data_left` is [`ProtoError::Busy`] and changes nothing.
    pub fn skip_data(&mut self, n: u64) -> Result<(), ProtoError> {
        if n == 0 {
            return Ok(());
        }
        if n > self.data_left() {
            return Err(ProtoError::Busy);
        }
        if let State::Receiving {
            verb,
            data,
            len,
            received,
        } = self.state
        {
            self.state = State::after_data(verb, data, len, received + n);
        }
        Ok(())
    }

    /// Hands the driver bytes received from the server.
    pub fn feed(&mut self, bytes: impl Into<Bytes>) {
        let bytes = bytes.into();
        if self.input.is_empty() {
            self.input = bytes;
        } else {
            let mut joined = BytesMut::with_capacity(self.input.len() + bytes.len());
            joined.extend_from_slice(&self.input);
            joined.extend_from_slice(&bytes);
            self.input = joined.freeze();
        }
    }

    /// The next event the fed bytes complete, or `None` when more bytes are needed.
    ///
    /// An error is a protocol violation by the server: the driver is closed
    /// and the connection should be dropped.
    pub fn poll(&mut self) -> Result<Option<Event>, ProtoError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Closed;
            self.input = Bytes::new();
        }
        result
    }

    fn step(&mut self) -> Result<Option<Event>, ProtoError> {
        loop {
            if self.input.is_empty() {
                return Ok(None);
            }
            if let State::Receiving {
                verb,
                data,
                len,
                received,
            } = self.state
            {
                let left = len - received;
                let take = usize::try_from(left)
                    .map_or(self.input.len(), |left| left.min(self.input.len()));
                let chunk = self.input.split_to(take);
                self.state = State::after_data(verb, data, len, received + take as u64);
                match data {
                    Data::Stream => return Ok(Some(Event::Data(chunk))),
                    Data::Collect => {
                        self.body.extend_from_slice(&chunk);
                        continue;
                    }
                }
            }
            if self.state == State::Closed {
                return Err(ProtoError::Closed);
            }
            let (consumed, line) = self.lines.decode(&self.input);
            let _ = self.input.split_to(consumed);
            let reply = match line {
                None => continue,
                Some(LineEvent::TooLong) => return Err(ProtoError::LineTooLong),
                Some(LineEvent::Line(line)) => Reply::parse(&line)?,
            };
            if let Some(event) = self.on_reply(reply)? {
                return Ok(Some(event));
            }
        }
    }

    fn on_reply(&mut self, reply: Reply) -> Result<Option<Event>, ProtoError> {
        let unexpected = |reply: &Reply| Err(ProtoError::UnexpectedReply(reply.to_string()));
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Greeting if reply.code == codes::READY => {
                self.state = State::Idle;
                Ok(Some(Event::Greeting(reply)))
            }
            State::Greeting | State::Idle if reply.code == codes::CLOSING => {
                Ok(Some(Event::Closing(reply)))
            }
            State::Waiting { verb, store_size } if reply.code == codes::DATA_FOLLOWS => {
                self.on_data_follows(verb, store_size, reply)
            }
            State::Waiting { verb, .. } | State::Final { verb } if !reply.is_preliminary() => {
                Ok(Some(Event::Done(self.finish_exchange(verb, reply))))
            }
            _ => unexpected(&reply),
        }
    }

    /// A `150`: data follows (LIST, RETRIEVE, READ) or is wanted (STORE,
    /// RESUME).
    fn on_data_follows(
        &mut self,
        verb: Verb,
        store_size: u64,
        reply: Reply,
    ) -> Result<Option<Event>, ProtoError> {
        let data = match verb {
            Verb::Store => {
                self.state = State::Final { verb };
                return Ok(Some(Event::Send {
                    reply,
                    len: store_size,
                }));
            }
            Verb::Resume => {
                // The last r bytes of a file of `store_size`: never more.
                let len = reply
                    .data_len()
                    .filter(|&len| len <= store_size)
                    .ok_or_else(|| {
                        ProtoError::MalformedReply(format!("{reply} (bad byte count)"))
                    })?;
                self.state = State::Final { verb };
                return Ok(Some(Event::Send { reply, len }));
            }
            Verb::List => Data::Collect,
            Verb::Retrieve | Verb::Read => Data::Stream,
            _ => return Err(ProtoError::UnexpectedReply(reply.to_string())),
        };
        let len = reply
            .data_len()
            .ok_or_else(|| ProtoError::MalformedReply(format!("{reply} (no byte count)")))?;
        if data == Data::Collect && len > self.max_listing_len {
            return Err(ProtoError::ListingTooLarge {
                len,
                limit: self.max_listing_len,
            });
        }
        self.body.clear();
        self.state = State::after_data(verb, data, len, 0);
        Ok(Some(Event::Incoming { reply, len }))
    }

    /// The final reply of the command in flight; sets the state after it.
    fn finish_exchange(&mut self, verb: Verb, reply: Reply) -> Result<Done, Refusal> {
        let closes =
            reply.code == codes::CLOSING || (verb == Verb::Quit && reply.code == codes::GOODBYE);
        self.state = if closes { State::Closed } else { State::Idle };
        // 331 to USER is a step forward, not a refusal.
        if reply.is_success() || reply.is_intermediate() {
            Ok(Done {
                verb,
                reply,
                body: std::mem::take(&mut self.body),
            })
        } else {
            self.body.clear();
            Err(Refusal { verb, reply })
        }
    }

    /// Tells the driver the server closed the stream.
    ///
    /// Returns [`ProtoError::Truncated`] if announced data bytes were
    /// missing, [`ProtoError::Closed`] if a reply was still awaited, and
    /// `Ok` if the close came between commands or after `QUIT`.
    pub fn end(&mut self) -> Result<(), ProtoError> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Receiving { len, received, .. } => Err(ProtoError::Truncated {
                expected: len,
                received,
            }),
            State::Waiting { .. } | State::Final { .. } | State::Greeting => {
                Err(ProtoError::Closed)
            }
            State::Idle | State::Closed => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Path;
    use proptest::prelude::*;

    /// Feeds `input` and collects every event, data chunks merged.
    fn run(
        driver: &mut ClientDriver,
        input: &[u8],
        out: &mut Vec<Event>,
    ) -> Result<(), ProtoError> {
        driver.feed(input.to_vec());
        while let Some(event) = driver.poll()? {
            match (out.last_mut(), event) {
                (Some(Event::Data(prev)), Event::Data(more)) => {
                    let mut joined = prev.to_vec();
                    joined.extend_from_slice(&more);
                    *prev = joined.into();
                }
                (_, event) => out.push(event),
            }
        }
        Ok(())
    }

    fn ready() -> ClientDriver {
        let mut driver = ClientDriver::new();
        let mut out = Vec::new();
        run(&mut driver, b"220 ferry ready\r\n", &mut out).unwrap();
        assert_eq!(out, vec![Event::Greeting(Reply::new(220, "ferry ready"))]);
        driver
    }

    #[test]
    fn data_taken_outside_the_driver_is_counted_and_the_final_reply_still_parsed() {
        let mut driver = ready();
        driver
            .start(&Command::Retrieve(Path::new("f").unwrap()))
            .unwrap();
        assert_eq!(driver.data_left(), 0);
        let mut out = Vec::new();
        run(&mut driver, b"150 10 bytes\r\nabc", &mut out).unwrap();
        assert_eq!(driver.data_left(), 7);
        assert_eq!(driver.skip_data(8), Err(ProtoError::Busy));
        driver.skip_data(5).unwrap();
        assert_eq!(driver.data_left(), 2);
        driver.skip_data(2).unwrap();
        assert_eq!(driver.data_left(), 0);
        run(&mut driver, b"226 Transfer complete\r\n", &mut out).unwrap();
        assert_eq!(
            out.last(),
            Some(&done(Verb::Retrieve, 226, "Transfer complete"))
        );
        assert!(driver.is_idle());
        // Bytes fed but not yet polled come first: nothing may be skipped past them.
        driver
            .start(&Command::Retrieve(Path::new("f").unwrap()))
            .unwrap();
        driver.feed(b"150 4 bytes\r\nab".to_vec());
        assert!(matches!(
            driver.poll(),
            Ok(Some(Event::Incoming { len: 4, .. }))
        ));
        assert_eq!(driver.data_left(), 0);
        assert_eq!(driver.skip_data(1), Err(ProtoError::Busy));
    }

    fn done(verb: Verb, code: u16, text: &str) -> Event {
        Event::Done(Ok(Done {
            verb,
            reply: Reply::new(code, text),
            body: Vec::new(),
        }))
    }

    fn refused(verb: Verb, code: u16, text: &str) -> Event {
        Event::Done(Err(Refusal {
            verb,
            reply: Reply::new(code, text),
        }))
    }

    #[test]
    fn retrieve_with_data_that_looks_like_replies() {
        let mut driver = ready();
        let path = Path::new("f").unwrap();
        assert_eq!(
            driver.start(&Command::Retrieve(path)).unwrap(),
            b"RETRIEVE f\r\n"
        );
        assert_eq!(driver.start(&Command::List(None)), Err(ProtoError::Busy));
        let mut out = Vec::new();
        let stream = b"150 12 bytes\r\n226 fake\r\n\n\n226 Transfer complete\r\n";
        run(&mut driver, stream, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                Event::Incoming {
                    reply: Reply::new(150, "12 bytes"),
                    len: 12
                },
                Event::Data(Bytes::from_static(b"226 fake\r\n\n\n")),
                done(Verb::Retrieve, 226, "Transfer complete"),
            ]
        );
        assert!(driver.is_idle());
    }

    #[test]
    fn list_body_is_collected_into_done() {
        let mut driver = ready();
        driver.start(&Command::List(None)).unwrap();
        let mut out = Vec::new();
        run(
            &mut driver,
            b"150 5 bytes\r\nab\ncd226 2 entries\r\n",
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                Event::Incoming {
                    reply: Reply::new(150, "5 bytes"),
                    len: 5
                },
                Event::Done(Ok(Done {
                    verb: Verb::List,
                    reply: Reply::new(226, "2 entries"),
                    body: b"ab\ncd".to_vec(),
                }))
            ]
        );
        let mut driver = ready().with_max_listing_len(3);
        driver.start(&Command::List(None)).unwrap();
        assert_eq!(
            run(&mut driver, b"150 4 bytes\r\n", &mut Vec::new()),
            Err(ProtoError::ListingTooLarge { len: 4, limit: 3 })
        );
        assert!(driver.is_closed());
    }

    #[test]
    fn store_asks_for_data_then_completes() {
        let mut driver = ready();
        let store = Command::Store {
            size: 3,
            path: Path::new("x").unwrap(),
        };
        driver.start(&store).unwrap();
        let mut out = Vec::new();
        run(&mut driver, b"150 Ready for 3 bytes\r\n", &mut out).unwrap();
        assert_eq!(
            out,
            vec![Event::Send {
                reply: Reply::new(150, "Ready for 3 bytes"),
                len: 3
            }]
        );
        assert!(!driver.is_idle());
        run(&mut driver, b"226 Stored 3 bytes\r\n", &mut out).unwrap();
        assert_eq!(out[1], done(Verb::Store, 226, "Stored 3 bytes"));
        assert!(driver.is_idle());
    }

    #[test]
    fn refusals_and_zero_length_transfers() {
        let mut driver = ready();
        let path = Path::new("nope").unwrap();
        driver.start(&Command::Retrieve(path)).unwrap();
        let mut out = Vec::new();
        run(&mut driver, b"550 No such file\r\n", &mut out).unwrap();
        driver.start(&Command::List(None)).unwrap();
        run(&mut driver, b"150 0 bytes\r\n226 0 entries\r\n", &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                refused(Verb::Retrieve, 550, "No such file"),
                Event::Incoming {
                    reply: Reply::new(150, "0 bytes"),
                    len: 0
                },
                done(Verb::List, 226, "0 entries"),
            ]
        );
    }

    #[test]
    fn truncated_transfer_is_reported() {
        let mut driver = ready();
        driver
            .start(&Command::Retrieve(Path::new("f").unwrap()))
            .unwrap();
        run(&mut driver, b"150 10 bytes\r\nabc", &mut Vec::new()).unwrap();
        assert_eq!(
            driver.end(),
            Err(ProtoError::Truncated {
                expected: 10,
                received: 3
            })
        );
        assert!(driver.is_closed());
    }

    #[test]
    fn quit_and_421_close() {
        let mut driver = ready();
        driver.start(&Command::Quit).unwrap();
        let mut out = Vec::new();
        run(&mut driver, b"221 Goodbye\r\n", &mut out).unwrap();
        assert_eq!(out, vec![done(Verb::Quit, 221, "Goodbye")]);
        assert!(driver.is_closed());
        assert_eq!(driver.start(&Command::Noop), Err(ProtoError::Closed));

        let mut driver = ready();
        let mut out = Vec::new();
        run(&mut driver, b"421 Idle timeout\r\n", &mut out).unwrap();
        assert_eq!(out, vec![Event::Closing(Reply::new(421, "Idle timeout"))]);
        assert!(driver.is_closed());
        assert_eq!(driver.end(), Ok(()));

        let mut driver = ClientDriver::new();
        let mut out = Vec::new();
        run(&mut driver, b"421 Too many connections\r\n", &mut out).unwrap();
        assert!(driver.is_closed());

        // A 421 ends the exchange in flight as its refusal, and the session.
        let mut driver = ready();
        driver.start(&Command::List(None)).unwrap();
        let mut out = Vec::new();
        run(&mut driver, b"421 Server shutting down\r\n", &mut out).unwrap();
        assert_eq!(out, vec![refused(Verb::List, 421, "Server shutting down")]);
        assert!(driver.is_closed());
    }

    #[test]
    fn protocol_violations_are_errors() {
        let mut driver = ClientDriver::new();
        assert!(run(&mut driver, b"200 hello\r\n", &mut Vec::new()).is_err());
        let mut driver = ready();
        driver.start(&Command::Noop).unwrap();
        assert!(run(&mut driver, b"150 5 bytes\r\n", &mut Vec::new()).is_err());
        let mut driver = ready();
        driver.start(&Command::List(None)).unwrap();
        assert!(run(&mut driver, b"150 many bytes\r\n", &mut Vec::new()).is_err());
        let mut driver = ready();
        assert!(run(&mut driver, b"226 unasked\r\n", &mut Vec::new()).is_err());
        // RESUME's 150 may ask for the last r bytes of the file, never more.
        let mut driver = ready();
        let path = Path::new("f").unwrap();
        driver.start(&Command::Resume { size: 4, path }).unwrap();
        assert!(run(&mut driver, b"150 5 bytes\r\n", &mut Vec::new()).is_err());
        let mut driver = ready();
        let mut long = vec![b'2'; 9000];
        long.push(b'\n');
        assert_eq!(
            run(&mut driver, &long, &mut Vec::new()),
            Err(ProtoError::LineTooLong)
        );
        assert!(driver.is_closed());
    }

    #[test]
    fn bytes_fed_before_polling_are_kept() {
        let mut driver = ClientDriver::new();
        driver.feed(&b"220 "[..]);
        driver.feed(&b"hi\r\n"[..]);
        assert_eq!(
            driver.poll(),
            Ok(Some(Event::Greeting(Reply::new(220, "hi"))))
        );
        assert_eq!(driver.poll(), Ok(None));
    }

    proptest! {
        /// The same server stream, split at every point, gives the same events.
        #[test]
        fn any_split_gives_the_same_events(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            at in any::<prop::sample::Index>(),
        ) {
            let mut stream = b"220 hi\r\n".to_vec();
            stream.extend_from_slice(format!("150 {} bytes\r\n", data.len()).as_bytes());
            stream.extend_from_slice(&data);
            stream.extend_from_slice(b"226 Transfer complete\r\n150 3 bytes\r\na\nb226 1 entries\r\n200 OK\r\n");
            // A READ of the data's tail, USER's 331, RESUME's 150 of r bytes, STAT.
            let tail = &data[data.len() / 2..];
            stream.extend_from_slice(format!("150 {} bytes\r\n", tail.len()).as_bytes());
            stream.extend_from_slice(tail);
            stream.extend_from_slice(b"226 Transfer complete\r\n331 Password required\r\n");
            stream.extend_from_slice(b"150 2 bytes\r\n226 Stored 9 bytes\r\n213 dir - 2026-11-24T16:13:25Z\r\n");
            let path = Path::new("d/f").unwrap();
            let commands = [
                Command::Retrieve(Path::new("f").unwrap()),
                Command::List(None),
                Command::Noop,
                Command::Read { offset: (data.len() / 2) as u64, length: 100, path: path.clone() },
                Command::User("u".into()),
                Command::Resume { size: 9, path: path.clone() },
                Command::Stat(path),
            ];
            let split_run = |splits: &[usize]| {
                let mut driver = ClientDriver::new();
                let mut out: Vec<Event> = Vec::new();
                let mut start = 0;
                let mut sent = 0;
                for &end in splits.iter().chain(std::iter::once(&stream.len())) {
                    driver.feed(stream[start..end].to_vec());
                    start = end;
                    loop {
                        // Start each command as soon as the driver is idle again.
                        if driver.is_idle() && sent < commands.len() {
                            driver.start(&commands[sent]).unwrap();
                            sent += 1;
                        }
                        match driver.poll().unwrap() {
                            None => break,
                            Some(Event::Data(more)) => match out.last_mut() {
                                Some(Event::Data(prev)) => {
                                    *prev = [&prev[..], &more[..]].concat().into();
                                }
                                _ => out.push(Event::Data(more)),
                            },
                            Some(event) => out.push(event),
                        }
                    }
                }
                out
            };
            let whole = split_run(&[8]);
            let at = at.index(stream.len() - 8) + 8;
            prop_assert_eq!(&split_run(&[8, at]), &whole);
            let every_byte: Vec<usize> = (8..stream.len()).collect();
            prop_assert_eq!(&split_run(&every_byte), &whole);
            prop_assert_eq!(whole.last(), Some(&done(Verb::Stat, 213, "dir - 2026-11-24T16:13:25Z")));
            prop_assert!(whole.contains(&done(Verb::User, 331, "Password required")));
            let send = Event::Send { reply: Reply::new(150, "2 bytes"), len: 2 };
            prop_assert!(whole.contains(&send));
            if !tail.is_empty() {
                prop_assert!(whole.contains(&Event::Data(Bytes::copy_from_slice(tail))));
            }
        }

        #[test]
        fn garbage_never_panics(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut driver = ClientDriver::new();
            let _ = run(&mut driver, &input, &mut Vec::new());
            let mut driver = ready();
            driver.start(&Command::List(None)).unwrap();
            let _ = run(&mut driver, &input, &mut Vec::new());
        }
    }
}
