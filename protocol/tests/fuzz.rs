//! Fuzz targets for everything in ferry-proto that reads the peer's bytes:
//! line framing, command lines (the server's input), reply lines, LIST
//! bodies, STAT answers and addresses (the client's), names and paths, and
//! the client driver fed a server's bytes in arbitrary pieces.
//!
//! Each target is a bolero `check!`: under `cargo test` it is a random test
//! bounded by bolero's default of one second per target;
//! `BOLERO_RANDOM_TEST_TIME_MS` or `BOLERO_RANDOM_ITERATIONS` run it longer,
//! and `BOLERO_RANDOM_SEED` replays the seed a failure prints
//! (scripts/fuzz.sh does the long runs). Every target checks properties of
//! what was accepted (round trips, the path invariants, byte counts), not
//! only that nothing panicked.

use bolero::check;
use ferry_proto::{
    encode_listing, parse_listing, ClientDriver, Command, EntryKind, Event, HostPort, LineDecoder,
    LineEvent, ListingEntry, Name, Password, Path, ProtoError, Reply, Status, Verb, MAX_LINE_LEN,
    MAX_NAME_LEN, MAX_PATH_LEN,
};

/// Random bytes rarely spell anything the parsers care about: bytes with
/// the top bit set become one of the protocol's meaningful pieces instead,
/// so inputs are a mix of raw bytes and separators, dots, digits and words.
fn interesting(raw: &[u8]) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"/",
        b".",
        b"..",
        b"\t",
        b" ",
        b"\r",
        b"\n",
        b"\r\n",
        b"\0",
        b"\\",
        b"0",
        b"1",
        b"9",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-",
        b"a",
        b"Z",
        "é".as_bytes(),
        "名".as_bytes(),
        b"\xff",
        b"\x7f",
        b"\x1b",
        b"LIST",
        b"150 ",
        b"226 ",
        b"220 ",
        b"421 ",
        b"2026-11-29T16:13:25Z",
        b"file",
        b"dir",
        b"bytes",
        b"[",
        b"]",
        b":",
        b"::1",
    ];
    let mut out = Vec::with_capacity(raw.len() * 2);
    for &byte in raw {
        if byte >= 0x80 {
            out.extend_from_slice(PIECES[usize::from(byte - 0x80) % PIECES.len()]);
        } else {
            out.push(byte);
        }
    }
    out
}

/// The invariants every accepted path holds (docs/PROTOCOL.md §3.1).
fn assert_valid_path(path: &Path) {
    let text = path.as_str();
    assert!(!text.is_empty() && text.len() <= MAX_PATH_LEN, "{text:?}");
    assert!(!text.starts_with('/') && !text.ends_with('/'), "{text:?}");
    for name in path.names() {
        assert_valid_name(name);
    }
    assert_eq!(path.names().collect::<Vec<_>>().join("/"), text);
    assert_eq!(path.last_name().as_str(), path.names().next_back().unwrap());
    if let Some(parent) = path.parent() {
        assert!(path.is_within(&parent) && parent != *path);
        assert_valid_path(&parent);
    }
}

fn assert_valid_name(name: &str) {
    assert!(!name.is_empty() && name.len() <= MAX_NAME_LEN, "{name:?}");
    assert!(name != "." && name != "..", "{name:?}");
    assert!(
        !name.contains(['/', '\\', '\0']) && !name.chars().any(char::is_control),
        "{name:?}"
    );
}

#[test]
fn line_decoder() {
    check!()
        .with_type::<(Vec<u8>, Vec<u16>, u16)>()
        .for_each(|(raw, splits, max)| {
            let stream = interesting(raw);
            // A small limit too, so over-long lines are common.
            let max = [MAX_LINE_LEN, usize::from(*max % 64) + 1][usize::from(*max % 2)];
            let decode = |pieces: &mut dyn Iterator<Item = &[u8]>| {
                let mut decoder = LineDecoder::new(max);
                let mut events = Vec::new();
                for mut piece in pieces {
                    while !piece.is_empty() {
                        let (consumed, event) = decoder.decode(piece);
                        assert!(consumed > 0 && consumed <= piece.len());
                        // Nothing after the first line end is consumed.
                        if event.is_some() {
                            assert_eq!(piece[consumed - 1], b'\n');
                        }
                        assert!(!piece[..consumed - 1].contains(&b'\n') || event.is_none());
                        piece = &piece[consumed..];
                        events.extend(event);
                    }
                }
                (events, decoder.has_partial())
            };
            let (whole, partial) = decode(&mut std::iter::once(&stream[..]));
            let (pieces, pieces_partial) = decode(&mut split(&stream, splits).into_iter());
            assert_eq!(whole, pieces);
            assert_eq!(partial, pieces_partial);
            // The events are exactly the stream's lines, the long ones reported.
            let mut lines: Vec<&[u8]> = stream.split(|&b| b == b'\n').collect();
            let rest = lines.pop().unwrap();
            assert_eq!(partial, !rest.is_empty());
            assert_eq!(whole.len(), lines.len());
            for (event, line) in whole.iter().zip(lines) {
                let expected = if line.len() + 1 > max {
                    LineEvent::TooLong
                } else {
                    LineEvent::Line(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
                };
                assert_eq!(*event, expected);
            }
        });
}

/// `stream` cut at the given points (each taken modulo its length, sorted).
fn split<'a>(stream: &'a [u8], splits: &[u16]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = splits
        .iter()
        .map(|&at| usize::from(at) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain(std::iter::once(stream.len())) {
        pieces.push(&stream[start..cut]);
        start = cut;
    }
    pieces
}

#[test]
fn command_parse() {
    check!()
        .with_type::<(u8, u8, Vec<u8>)>()
        .for_each(|(verb, spelling, raw)| {
            // A known verb (in some spelling) and an argument, or raw bytes.
            let mut line = match Verb::ALL.get(usize::from(*verb)) {
                Some(verb) => {
                    let word = verb.as_str();
                    match spelling % 3 {
                        0 => word.to_owned(),
                        1 => word.to_ascii_lowercase(),
                        _ => format!("{word}X"),
                    }
                    .into_bytes()
                }
                None => Vec::new(),
            };
            if !line.is_empty() && spelling.is_multiple_of(2) {
                line.push(b' ');
            }
            line.extend(interesting(raw));
            let parsed = Command::parse(&line);
            // Every error is one of the three the contract gives a code.
            let command = match parsed {
                Ok(command) => command,
                Err(error) => {
                    assert!(
                        matches!(error.reply_code(), Some(501..=502) | Some(553)),
                        "{error:?}"
                    );
                    return;
                }
            };
            assert_eq!(Command::verb_of(&line), Some(command.verb()));
            for path in paths_of(&command) {
                assert_valid_path(path);
            }
            // Only lines the decoder can produce (no LF) are round-tripped.
            if line.contains(&b'\n') {
                return;
            }
            let wire = command.encode();
            assert!(wire.ends_with(b"\r\n"));
            let mut decoder = LineDecoder::default();
            let (consumed, event) = decoder.decode(&wire);
            assert_eq!(consumed, wire.len(), "one line: {wire:?}");
            let Some(LineEvent::Line(again)) = event else {
                panic!("{wire:?} is not a line");
            };
            assert_eq!(Command::parse(&again).as_ref(), Ok(&command));
            if !matches!(command, Command::Pass(_)) {
                assert_eq!(Command::parse(command.to_string().as_bytes()), Ok(command));
            }
        });
}

fn paths_of(command: &Command) -> Vec<&Path> {
    match command {
        Command::List(path) => path.iter().collect(),
        Command::Retrieve(path)
        | Command::Stat(path)
        | Command::Delete(path)
        | Command::Mkdir(path)
        | Command::Rmdir(path)
        | Command::Hash(path)
        | Command::Read { path, .. }
        | Command::Store { path, .. }
        | Command::Resume { path, .. } => vec![path],
        Command::Rename { from, to } => vec![from, to],
        Command::User(_) | Command::Pass(_) | Command::Noop | Command::Help | Command::Quit => {
            Vec::new()
        }
    }
}

#[test]
fn path_and_name_validation() {
    check!().with_type::<Vec<u8>>().for_each(|raw| {
        let bytes = interesting(raw);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match Path::from_bytes(&bytes) {
            Ok(path) => {
                assert_valid_path(&path);
                assert_eq!(path.as_str().as_bytes(), &bytes[..]);
                assert_eq!(Path::new(path.as_str()), Ok(path.clone()));
                for name in path.names() {
                    let name = Name::new(name).expect("a path's names are names");
                    let joined = path.join(&name);
                    match joined {
                        Ok(joined) => {
                            assert_valid_path(&joined);
                            assert!(joined.is_within(&path));
                        }
                        Err(_) => assert!(path.as_str().len() + 1 + name.as_str().len() > 4096),
                    }
                }
            }
            Err(error) => {
                assert_eq!(error.reply_code(), Some(553), "{error:?}");
                // Nothing with a forbidden part is valid; what is refused has one.
                let forbidden = std::str::from_utf8(&bytes).is_err()
                    || bytes.is_empty()
                    || bytes.len() > MAX_PATH_LEN
                    || text.split('/').any(|name| Name::new(name).is_err());
                assert!(forbidden, "{text:?} refused: {error}");
            }
        }
        match Name::from_bytes(&bytes) {
            Ok(name) => {
                assert_valid_name(name.as_str());
                assert_eq!(Path::from(name.clone()).as_str(), name.as_str());
                assert_eq!(
                    Path::new(name.as_str()).map(|p| p.into_string()),
                    Ok(name.into_string())
                );
            }
            Err(error) => assert_eq!(error.reply_code(), Some(553), "{error:?}"),
        }
    });
}

#[test]
fn reply_parse() {
    check!().with_type::<Vec<u8>>().for_each(|raw| {
        let line = interesting(raw);
        let Ok(reply) = Reply::parse(&line) else {
            return;
        };
        assert!((100..600).contains(&reply.code), "{reply:?}");
        assert_eq!(
            reply.is_preliminary() as u8
                + reply.is_success() as u8
                + reply.is_intermediate() as u8
                + reply.is_transient_failure() as u8
                + reply.is_permanent_failure() as u8,
            1
        );
        let wire = reply.encode();
        let body = wire.strip_suffix(b"\r\n").expect("a reply ends in CRLF");
        assert!(!body.contains(&b'\n') && !body.contains(&b'\r'), "{wire:?}");
        let again = Reply::parse(body).unwrap();
        assert_eq!(again.code, reply.code);
        if !reply.text.contains(['\r', '\n']) {
            assert_eq!(again, reply);
        }
        if let Some(len) = reply.data_len() {
            assert_eq!(reply.code, 150);
            assert!(reply.text.starts_with(&len.to_string()) || reply.text.starts_with('0'));
        }
        if let Some(hex) = reply.sha256_hex() {
            assert_eq!(hex.len(), 64);
        }
        if let Some(status) = Status::parse(&reply.text) {
            assert_eq!(Status::parse(&status.to_string()), Some(status));
        }
    });
}

#[test]
fn listing_parse() {
    check!()
        .with_type::<(Vec<u8>, Vec<(u8, u64, u32)>)>()
        .for_each(|(raw, rows)| {
            // Arbitrary bytes, then a body of plausible rows with fuzzed names.
            let mut bodies = vec![interesting(raw)];
            let mut body = Vec::new();
            for (i, (kind, size, modified)) in rows.iter().enumerate() {
                let name = raw
                    .get(i..i + 8)
                    .map(interesting)
                    .unwrap_or_else(|| b"n".to_vec());
                let size = if kind.is_multiple_of(2) {
                    size.to_string()
                } else {
                    "-".into()
                };
                body.extend_from_slice(size.as_bytes());
                body.push(b'\t');
                body.extend_from_slice(
                    ferry_proto::format_rfc3339(u64::from(*modified)).as_bytes(),
                );
                body.push(b'\t');
                body.extend_from_slice(&name);
                if kind % 2 == 1 {
                    body.push(b'/');
                }
                body.push(b'\n');
            }
            bodies.push(body);
            for body in bodies {
                let Ok(entries) = parse_listing(&body) else {
                    continue;
                };
                assert_eq!(entries.len(), body.iter().filter(|&&b| b == b'\n').count());
                for entry in &entries {
                    assert_valid_name(entry.name.as_str());
                    assert_eq!(entry.is_dir(), entry.size().is_none());
                }
                // Encoding what was read and reading it again gives the same
                // entries (in listing order; entries of one name, which no
                // server sends, in any order), and its encoding once more.
                let encoded = encode_listing(entries.clone());
                let again = parse_listing(&encoded).expect("an encoded listing parses");
                assert_eq!(encode_listing(again.clone()), encoded);
                assert!(again
                    .windows(2)
                    .all(|pair| pair[0].listing_order(&pair[1]).is_le()));
                let as_set = |list: &[ListingEntry]| {
                    let mut shown: Vec<String> = list.iter().map(|e| format!("{e:?}")).collect();
                    shown.sort();
                    shown
                };
                assert_eq!(as_set(&again), as_set(&entries));
            }
        });
}

#[test]
fn addresses() {
    check!()
        .with_type::<(Vec<u8>, u16)>()
        .for_each(|(raw, default)| {
            let text = String::from_utf8_lossy(&interesting(raw)).into_owned();
            for parsed in [
                HostPort::parse(&text),
                HostPort::parse_with_default(&text, (*default).max(1)),
            ] {
                let Ok(address) = parsed else { continue };
                assert_ne!(address.port(), 0);
                assert!(!address.host().is_empty());
                assert!(
                    !address.host().contains(['/', '@', ' ', '[', ']']),
                    "{address:?}"
                );
                // The normal form is a fixed point.
                assert_eq!(HostPort::parse(&address.to_string()), Ok(address.clone()));
            }
        });
}

/// One command of each kind, by a selector byte.
fn command(selector: u8, size: u64) -> Command {
    let path = Path::new("d/f").unwrap();
    match selector % 16 {
        0 => Command::List(None),
        1 => Command::List(Some(path)),
        2 => Command::Retrieve(path),
        3 => Command::Read {
            offset: size / 2,
            length: size,
            path,
        },
        4 => Command::Stat(path),
        5 => Command::Store { size, path },
        6 => Command::Resume { size, path },
        7 => Command::Delete(path),
        8 => Command::Mkdir(path),
        9 => Command::Rmdir(path),
        10 => Command::Rename {
            from: path,
            to: Path::new("g").unwrap(),
        },
        11 => Command::Hash(path),
        12 => Command::User("alice".into()),
        13 => Command::Pass(Password::new("secret")),
        14 => Command::Noop,
        _ => Command::Quit,
    }
}

/// A server's stream: pieces that are replies a server could send (each
/// code the contract has, `150` with byte counts and then that many bytes),
/// mixed with arbitrary bytes.
fn server_stream(pieces: &[(u8, u16, Vec<u8>)]) -> Vec<u8> {
    const CODES: &[u16] = &[
        150, 200, 213, 214, 220, 221, 226, 230, 250, 257, 331, 421, 450, 451, 500, 501, 502, 503,
        530, 550, 552, 553, 100, 199, 300, 399, 600,
    ];
    let mut stream = b"220 ferry ready\r\n".to_vec();
    for (kind, number, raw) in pieces {
        match kind % 4 {
            // 150 announcing `number % 300` bytes, then as many (or fewer).
            0 => {
                let len = usize::from(*number % 300);
                stream.extend_from_slice(format!("150 {len} bytes\r\n").as_bytes());
                let data = interesting(raw);
                stream.extend(data.iter().cycle().take(len.min(data.len() * 4)));
            }
            1 | 2 => {
                let code = CODES[usize::from(*number) % CODES.len()];
                let text = interesting(raw);
                stream.extend_from_slice(format!("{code} ").as_bytes());
                stream.extend(text.iter().filter(|&&b| b != b'\n'));
                stream.extend_from_slice(if number.is_multiple_of(2) {
                    b"\r\n"
                } else {
                    b"\n"
                });
            }
            _ => stream.extend(interesting(raw)),
        }
    }
    stream
}

/// What a run of the driver amounted to: its events (data merged per
/// transfer) and the error it ended with, if any.
#[derive(Debug, PartialEq)]
struct Run {
    events: Vec<Event>,
    error: Option<ProtoError>,
    end: Result<(), ProtoError>,
}

/// Feeds `pieces` to a driver, starting the next of `commands` whenever it
/// is idle, and checks each event against the exchange in flight.
fn drive(pieces: &[&[u8]], commands: &[Command]) -> Run {
    let mut driver = ClientDriver::new().with_max_listing_len(200);
    let mut events: Vec<Event> = Vec::new();
    let mut next = 0;
    // The exchange in flight: its verb, the data announced and received so far.
    let mut in_flight: Option<(Verb, Option<u64>, u64)> = None;
    for piece in pieces {
        driver.feed(piece.to_vec());
        loop {
            if driver.is_idle() && next < commands.len() {
                let command = &commands[next];
                assert!(driver.start(command).is_ok());
                assert_eq!(driver.start(command), Err(ProtoError::Busy));
                in_flight = Some((command.verb(), None, 0));
                next += 1;
            }
            let event = match driver.poll() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(error) => {
                    assert!(driver.is_closed());
                    assert_eq!(driver.poll(), Ok(None));
                    return Run {
                        events,
                        error: Some(error),
                        end: driver.end(),
                    };
                }
            };
            check_event(&event, &mut in_flight, &commands[..next]);
            match (events.last_mut(), event) {
                (Some(Event::Data(before)), Event::Data(more)) => {
                    *before = [&before[..], &more[..]].concat().into();
                }
                (_, event) => events.push(event),
            }
        }
    }
    let end = driver.end();
    if let Err(ProtoError::Truncated { expected, received }) = end {
        assert!(received < expected);
        let (verb, announced, got) = in_flight.expect("a transfer was in flight");
        assert_eq!(announced, Some(expected));
        if verb != Verb::List {
            assert_eq!(got, received);
        }
    }
    assert!(driver.is_closed());
    Run {
        events,
        error: None,
        end,
    }
}

fn check_event(
    event: &Event,
    in_flight: &mut Option<(Verb, Option<u64>, u64)>,
    started: &[Command],
) {
    match event {
        Event::Greeting(reply) => assert_eq!(reply.code, 220),
        Event::Closing(reply) => assert_eq!(reply.code, 421),
        Event::Incoming { reply, len } => {
            let (verb, announced, _) = in_flight.as_mut().expect("Incoming without a command");
            assert!(matches!(verb, Verb::List | Verb::Retrieve | Verb::Read));
            assert!(announced.is_none(), "two 150s in one exchange");
            assert_eq!(reply.data_len(), Some(*len));
            if *verb == Verb::List {
                assert!(*len <= 200, "over the listing limit");
            }
            *announced = Some(*len);
        }
        Event::Data(data) => {
            let (verb, announced, received) = in_flight.as_mut().expect("Data without a command");
            assert!(matches!(verb, Verb::Retrieve | Verb::Read));
            assert!(!data.is_empty());
            *received += data.len() as u64;
            let announced = announced.expect("Data before Incoming");
            assert!(
                *received <= announced,
                "{received} data bytes of {announced} announced"
            );
        }
        Event::Send { reply, len } => {
            let (verb, _, _) = in_flight.as_ref().expect("Send without a command");
            assert_eq!(reply.code, 150);
            let size = match started.last() {
                Some(Command::Store { size, .. }) | Some(Command::Resume { size, .. }) => *size,
                other => panic!("Send for {other:?}"),
            };
            match verb {
                Verb::Store => assert_eq!(*len, size),
                Verb::Resume => assert!(*len <= size && reply.data_len() == Some(*len)),
                other => panic!("Send for {other}"),
            }
        }
        Event::Done(result) => {
            let (verb, announced, received) = in_flight.take().expect("Done without a command");
            let (done_verb, reply) = match result {
                Ok(done) => (done.verb, &done.reply),
                Err(refusal) => (refusal.verb, &refusal.reply),
            };
            assert_eq!(done_verb, verb);
            assert!(!reply.is_preliminary());
            assert_eq!(
                result.is_ok(),
                reply.is_success() || reply.is_intermediate()
            );
            if let Some(announced) = announced {
                // A transfer ends only once every announced byte came.
                match result {
                    Ok(done) if verb == Verb::List => {
                        assert_eq!(done.body.len() as u64, announced)
                    }
                    _ if verb == Verb::List => {}
                    _ => assert_eq!(received, announced),
                }
            }
            if let Ok(done) = result {
                if verb != Verb::List {
                    assert!(done.body.is_empty());
                }
            }
        }
    }
}

#[test]
fn client_driver() {
    check!()
        .with_type::<(Vec<(u8, u16, Vec<u8>)>, Vec<u8>, Vec<u16>, u16)>()
        .for_each(|(pieces, selectors, splits, size)| {
            let stream = server_stream(pieces);
            let mut commands: Vec<Command> = selectors
                .iter()
                .map(|&s| command(s, u64::from(*size % 400)))
                .collect();
            if commands.is_empty() {
                commands.push(command(*size as u8, u64::from(*size)));
            }
            let whole = drive(&[&stream], &commands);
            let pieces = split(&stream, splits);
            assert_eq!(drive(&pieces, &commands), whole);
            if stream.len() <= 512 {
                let bytes: Vec<&[u8]> = stream.chunks(1).collect();
                assert_eq!(drive(&bytes, &commands), whole);
            }
        });
}

#[test]
fn status_parse() {
    check!()
        .with_type::<(Vec<u8>, u64, u32)>()
        .for_each(|(raw, size, modified)| {
            let templated = format!(
                "{} {} {}",
                ["file", "dir"][usize::from(raw.first().copied().unwrap_or(0) % 2)],
                if raw.len().is_multiple_of(2) {
                    size.to_string()
                } else {
                    "-".into()
                },
                ferry_proto::format_rfc3339(u64::from(*modified))
            );
            let text = String::from_utf8_lossy(&interesting(raw)).into_owned();
            for text in [text, templated] {
                if let Some(status) = Status::parse(&text) {
                    assert_eq!(Status::parse(&status.to_string()), Some(status));
                    if let EntryKind::File { size } = status.kind {
                        assert!(text.contains(&size.to_string()));
                    }
                }
            }
        });
}
