//! The client side of a session as a state machine: commands in, wire bytes
//! out; server bytes in, [`Event`]s out. Transport-agnostic (TCP, WebSocket).

use crate::{codes, Command, LineDecoder, LineEvent, ProtoError, Reply, Verb};

/// Something the server said, decoded by [`ClientCodec::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// The `220` greeting sent on accept.
    Greeting(Reply),
    /// `150` for `LIST` or `RETRIEVE`: `len` data bytes follow as [`Event::Data`].
    DataStart {
        /// The `150` reply itself.
        reply: Reply,
        /// Number of data bytes announced.
        len: u64,
    },
    /// A slice of the announced data bytes, borrowed from the input.
    Data(&'a [u8]),
    /// `150` for `STORE`: the caller must now send exactly `size` raw bytes.
    SendData {
        /// The `150` reply itself.
        reply: Reply,
        /// Number of bytes to send (the size given in the command).
        size: u64,
    },
    /// A final reply (2xx, 4xx, 5xx): to the command in flight, or
    /// unsolicited (e.g. `421 Idle timeout`) when none is.
    Reply(Reply),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        len: u64,
        received: u64,
    },
    /// Only the final reply of the command in flight is missing.
    Final {
        verb: Verb,
    },
    Closed,
}

/// Client-side protocol state: one command in flight at a time.
///
/// Drive it by calling [`ClientCodec::send`] for each command (write the
/// returned bytes to the transport) and feeding every byte received to
/// [`ClientCodec::decode`] until it is consumed. At end of stream, call
/// [`ClientCodec::finish`] to learn whether a transfer was cut short.
#[derive(Debug, Clone)]
pub struct ClientCodec {
    lines: LineDecoder,
    state: State,
}

impl Default for ClientCodec {
    fn default() -> Self {
        ClientCodec::new()
    }
}

impl ClientCodec {
    /// A codec for a connection that has just been opened (greeting pending).
    pub fn new() -> ClientCodec {
        ClientCodec {
            lines: LineDecoder::default(),
            state: State::Greeting,
        }
    }

    /// Starts `command`; returns the bytes to send.
    ///
    /// Fails with [`ProtoError::Busy`] before the greeting or while another
    /// command is in flight, and with [`ProtoError::Closed`] once closed.
    pub fn send(&mut self, command: &Command) -> Result<Vec<u8>, ProtoError> {
        match self.state {
            State::Idle => {}
            State::Closed => return Err(ProtoError::Closed),
            _ => return Err(ProtoError::Busy),
        }
        let store_size = match command {
            Command::Store { size, .. } => *size,
            _ => 0,
        };
        self.state = State::Waiting {
            verb: command.verb(),
            store_size,
        };
        Ok(command.encode())
    }

    /// Whether a new command may be sent now.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Whether the session is over (after `221`, `421` or [`ClientCodec::finish`]).
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

    /// Consumes a prefix of `input` and returns how many bytes it took and
    /// the event they completed, if any. Call again with the rest until all
    /// input is consumed; a call consumes at least one byte of a non-empty
    /// input.
    ///
    /// Errors are fatal protocol violations by the server (the connection
    /// should be dropped).
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<(usize, Option<Event<'a>>), ProtoError> {
        if input.is_empty() {
            return Ok((0, None));
        }
        if let State::Receiving {
            verb,
            len,
            received,
        } = self.state
        {
            let take =
                usize::try_from(len - received).map_or(input.len(), |left| left.min(input.len()));
            let received = received + take as u64;
            self.state = if received == len {
                State::Final { verb }
            } else {
                State::Receiving {
                    verb,
                    len,
                    received,
                }
            };
            return Ok((take, Some(Event::Data(&input[..take]))));
        }
        if self.state == State::Closed {
            return Err(ProtoError::Closed);
        }
        let (consumed, line) = self.lines.decode(input);
        let line = match line {
            None => return Ok((consumed, None)),
            Some(LineEvent::TooLong) => return Err(ProtoError::LineTooLong),
            Some(LineEvent::Line(line)) => line,
        };
        let reply = Reply::parse(&line)?;
        let event = self.on_reply(reply)?;
        Ok((consumed, Some(event)))
    }

    fn on_reply<'a>(&mut self, reply: Reply) -> Result<Event<'a>, ProtoError> {
        let unexpected = |reply: &Reply| Err(ProtoError::UnexpectedReply(reply.to_string()));
        if reply.code == codes::CLOSING {
            self.state = State::Closed;
            return Ok(Event::Reply(reply));
        }
        match self.state {
            State::Greeting if reply.code == codes::READY => {
                self.state = State::Idle;
                Ok(Event::Greeting(reply))
            }
            State::Greeting => unexpected(&reply),
            State::Waiting { verb, store_size } if reply.is_preliminary() => {
                if reply.code != codes::DATA_FOLLOWS {
                    return unexpected(&reply);
                }
                match verb {
                    Verb::List | Verb::Retrieve => {
                        let len = reply.data_len().ok_or_else(|| {
                            ProtoError::MalformedReply(format!("{reply} (no byte count)"))
                        })?;
                        self.state = if len == 0 {
                            State::Final { verb }
                        } else {
                            State::Receiving {
                                verb,
                                len,
                                received: 0,
                            }
                        };
                        Ok(Event::DataStart { reply, len })
                    }
                    Verb::Store => {
                        self.state = State::Final { verb };
                        Ok(Event::SendData {
                            reply,
                            size: store_size,
                        })
                    }
                    _ => unexpected(&reply),
                }
            }
            State::Waiting { verb, .. } | State::Final { verb } => {
                if reply.is_preliminary() {
                    return unexpected(&reply);
                }
                self.state = if verb == Verb::Quit && reply.code == codes::GOODBYE {
                    State::Closed
                } else {
                    State::Idle
                };
                Ok(Event::Reply(reply))
            }
            State::Idle if !reply.is_preliminary() => Ok(Event::Reply(reply)),
            State::Idle | State::Receiving { .. } | State::Closed => unexpected(&reply),
        }
    }

    /// Tells the codec the server closed the stream.
    ///
    /// Returns [`ProtoError::Truncated`] if announced data bytes were
    /// missing, [`ProtoError::Closed`] if a reply was still awaited, and
    /// `Ok` if the close came between commands or after `QUIT`.
    pub fn finish(&mut self) -> Result<(), ProtoError> {
        let state = std::mem::replace(&mut self.state, State::Closed);
        match state {
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
    use crate::Name;
    use proptest::prelude::*;

    /// An event with its data copied, so tests can collect events.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Owned {
        Greeting(u16),
        DataStart(u64),
        Data(Vec<u8>),
        SendData(u64),
        Reply(u16, String),
    }

    fn feed(
        codec: &mut ClientCodec,
        mut input: &[u8],
        out: &mut Vec<Owned>,
    ) -> Result<(), ProtoError> {
        while !input.is_empty() {
            let (n, event) = codec.decode(input)?;
            assert!(n > 0);
            input = &input[n..];
            match event {
                None => {}
                Some(Event::Greeting(r)) => out.push(Owned::Greeting(r.code)),
                Some(Event::DataStart { len, .. }) => out.push(Owned::DataStart(len)),
                Some(Event::Data(d)) => match out.last_mut() {
                    Some(Owned::Data(prev)) => prev.extend_from_slice(d),
                    _ => out.push(Owned::Data(d.to_vec())),
                },
                Some(Event::SendData { size, .. }) => out.push(Owned::SendData(size)),
                Some(Event::Reply(r)) => out.push(Owned::Reply(r.code, r.text)),
            }
        }
        Ok(())
    }

    fn ready() -> ClientCodec {
        let mut codec = ClientCodec::new();
        let mut out = Vec::new();
        feed(&mut codec, b"220 ferry ready\r\n", &mut out).unwrap();
        assert_eq!(out, vec![Owned::Greeting(220)]);
        codec
    }

    #[test]
    fn retrieve_with_data_that_looks_like_replies() {
        let mut codec = ready();
        let name = Name::new("f").unwrap();
        assert_eq!(
            codec.send(&Command::Retrieve(name.clone())).unwrap(),
            b"RETRIEVE f\r\n"
        );
        assert_eq!(codec.send(&Command::List), Err(ProtoError::Busy));
        let mut out = Vec::new();
        feed(
            &mut codec,
            b"150 12 bytes\r\n226 fake\r\n\n\n226 Transfer complete\r\n",
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                Owned::DataStart(12),
                Owned::Data(b"226 fake\r\n\n\n".to_vec()),
                Owned::Reply(226, "Transfer complete".into())
            ]
        );
        assert!(codec.is_idle());
    }

    #[test]
    fn store_asks_for_data_then_completes() {
        let mut codec = ready();
        let cmd = Command::Store {
            size: 3,
            name: Name::new("x").unwrap(),
        };
        codec.send(&cmd).unwrap();
        let mut out = Vec::new();
        feed(&mut codec, b"150 Ready for 3 bytes\r\n", &mut out).unwrap();
        assert_eq!(out, vec![Owned::SendData(3)]);
        assert!(!codec.is_idle());
        feed(&mut codec, b"226 Stored 3 bytes\r\n", &mut out).unwrap();
        assert!(codec.is_idle());
    }

    #[test]
    fn failures_and_zero_length_transfers() {
        let mut codec = ready();
        codec
            .send(&Command::Retrieve(Name::new("nope").unwrap()))
            .unwrap();
        let mut out = Vec::new();
        feed(&mut codec, b"550 No such file\r\n", &mut out).unwrap();
        codec.send(&Command::List).unwrap();
        feed(&mut codec, b"150 0 bytes\r\n226 0 entries\r\n", &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                Owned::Reply(550, "No such file".into()),
                Owned::DataStart(0),
                Owned::Reply(226, "0 entries".into())
            ]
        );
    }

    #[test]
    fn truncated_transfer_is_reported() {
        let mut codec = ready();
        codec
            .send(&Command::Retrieve(Name::new("f").unwrap()))
            .unwrap();
        let mut out = Vec::new();
        feed(&mut codec, b"150 10 bytes\r\nabc", &mut out).unwrap();
        assert_eq!(
            codec.finish(),
            Err(ProtoError::Truncated {
                expected: 10,
                received: 3
            })
        );
        assert!(codec.is_closed());
    }

    #[test]
    fn quit_and_unsolicited_421_close() {
        let mut codec = ready();
        codec.send(&Command::Quit).unwrap();
        let mut out = Vec::new();
        feed(&mut codec, b"221 Goodbye\r\n", &mut out).unwrap();
        assert!(codec.is_closed());
        assert_eq!(codec.send(&Command::Noop), Err(ProtoError::Closed));

        let mut codec = ready();
        feed(&mut codec, b"421 Idle timeout\r\n", &mut out).unwrap();
        assert!(codec.is_closed());
        assert_eq!(codec.finish(), Ok(()));

        let mut codec = ClientCodec::new();
        feed(&mut codec, b"421 Too many connections\r\n", &mut out).unwrap();
        assert!(codec.is_closed());
    }

    #[test]
    fn protocol_violations_are_errors() {
        let mut codec = ClientCodec::new();
        assert!(feed(&mut codec, b"200 hello\r\n", &mut Vec::new()).is_err());
        let mut codec = ready();
        codec.send(&Command::Noop).unwrap();
        assert!(feed(&mut codec, b"150 5 bytes\r\n", &mut Vec::new()).is_err());
        let mut codec = ready();
        codec.send(&Command::List).unwrap();
        assert!(feed(&mut codec, b"150 many bytes\r\n", &mut Vec::new()).is_err());
        let mut codec = ready();
        let mut long = vec![b'2'; 9000];
        long.push(b'\n');
        assert_eq!(
            feed(&mut codec, &long, &mut Vec::new()),
            Err(ProtoError::LineTooLong)
        );
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
            stream.extend_from_slice(b"226 Transfer complete\r\n200 OK\r\n");
            let run = |splits: &[usize]| {
                let mut codec = ClientCodec::new();
                let mut out = Vec::new();
                let mut start = 0;
                let mut sent = 0;
                for &end in splits.iter().chain(std::iter::once(&stream.len())) {
                    feed(&mut codec, &stream[start..end], &mut out).unwrap();
                    start = end;
                    // Send each command as soon as the codec is idle again.
                    while codec.is_idle() && sent < 2 {
                        let cmd = if sent == 0 { Command::Retrieve(Name::new("f").unwrap()) } else { Command::Noop };
                        codec.send(&cmd).unwrap();
                        sent += 1;
                    }
                }
                out
            };
            let whole = run(&[8]);
            let at = at.index(stream.len() - 8) + 8;
            prop_assert_eq!(&run(&[8, at]), &whole);
            let every_byte: Vec<usize> = (8..stream.len()).collect();
            prop_assert_eq!(&run(&every_byte), &whole);
            prop_assert_eq!(whole.last(), Some(&Owned::Reply(200, "OK".into())));
        }

        #[test]
        fn garbage_never_panics(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut codec = ClientCodec::new();
            let _ = feed(&mut codec, &input, &mut Vec::new());
        }
    }
}
