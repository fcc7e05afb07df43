use super::*;
use proptest::prelude::*;

fn code(line: &[u8]) -> Option<u16> {
    Command::parse(line).err().and_then(|e| e.reply_code())
}

fn p(text: &str) -> Path {
    Path::new(text).unwrap()
}

#[test]
fn parses_every_verb_and_alias_case_insensitively() {
    assert_eq!(Command::parse(b"list").unwrap(), Command::List(None));
    assert_eq!(Command::parse(b"LIST ").unwrap(), Command::List(None));
    assert_eq!(
        Command::parse(b"LIST a/b c").unwrap(),
        Command::List(Some(p("a/b c")))
    );
    assert_eq!(
        Command::parse(b"Retr a b.txt").unwrap(),
        Command::Retrieve(p("a b.txt"))
    );
    assert_eq!(
        Command::parse(b"RETRIEVE d/x").unwrap(),
        Command::Retrieve(p("d/x"))
    );
    assert_eq!(
        Command::parse(b"read 0 18446744073709551615 d/f g").unwrap(),
        Command::Read {
            offset: 0,
            length: u64::MAX,
            path: p("d/f g")
        }
    );
    assert_eq!(Command::parse(b"stat d").unwrap(), Command::Stat(p("d")));
    assert_eq!(
        Command::parse(b"stor 0 empty").unwrap(),
        Command::Store {
            size: 0,
            path: p("empty")
        }
    );
    assert_eq!(
        Command::parse(b"STORE 12 two  spaces/")
            .unwrap_err()
            .reply_code(),
        Some(553)
    );
    assert_eq!(
        Command::parse(b"STORE 12 two  spaces ").unwrap(),
        Command::Store {
            size: 12,
            path: p("two  spaces ")
        }
    );
    assert_eq!(
        Command::parse(b"resume 7 d/f").unwrap(),
        Command::Resume {
            size: 7,
            path: p("d/f")
        }
    );
    assert_eq!(Command::parse(b"dele x").unwrap(), Command::Delete(p("x")));
    assert_eq!(
        Command::parse(b"DELETE a/x").unwrap(),
        Command::Delete(p("a/x"))
    );
    assert_eq!(
        Command::parse(b"mkdir a b").unwrap(),
        Command::Mkdir(p("a b"))
    );
    assert_eq!(
        Command::parse(b"RMDIR a/b").unwrap(),
        Command::Rmdir(p("a/b"))
    );
    assert_eq!(
        Command::parse(b"rename a b\tc/d e").unwrap(),
        Command::Rename {
            from: p("a b"),
            to: p("c/d e")
        }
    );
    assert_eq!(Command::parse(b"hash x").unwrap(), Command::Hash(p("x")));
    assert_eq!(
        Command::parse(b"USER alice smith").unwrap(),
        Command::User("alice smith".into())
    );
    assert_eq!(
        Command::parse(b"pass s3cret word").unwrap(),
        Command::Pass(Password::new("s3cret word"))
    );
    assert_eq!(Command::parse(b"NOOP").unwrap(), Command::Noop);
    assert_eq!(Command::parse(b"help").unwrap(), Command::Help);
    assert_eq!(Command::parse(b"QuIt").unwrap(), Command::Quit);
}

#[test]
fn error_codes_follow_the_contract_and_its_order() {
    let cases: &[(&[u8], u16)] = &[
        (b"", 502),
        (b"FROB x", 502),
        (b"\xff\xfe", 502),
        (b"RETR", 501),
        (b"RETR ", 501),
        (b"NOOP extra", 501),
        (b"STORE", 501),
        (b"STORE file.txt", 501),
        (b"STORE -1 x", 501),
        (b"STORE +1 x", 501),
        (b"STORE 1e3 x", 501),
        (b"STORE 18446744073709551616 x", 501),
        (b"STORE 99999999999999999999 x", 501),
        (b"STORE 10", 501),
        (b"STORE 10 ", 501),
        (b"STORE 99999999999999999999 ../x", 501),
        (b"STORE 10 ../x", 553),
        (b"RESUME x y", 501),
        (b"RESUME 1 a//b", 553),
        (b"READ", 501),
        (b"READ 1", 501),
        (b"READ 1 2", 501),
        (b"READ 1 x f", 501),
        (b"READ x 1 ../f", 501),
        (b"READ 1 2 ../f", 553),
        (b"READ  1 2 f", 501),
        (b"STAT", 501),
        (b"STAT a/", 553),
        (b"MKDIR", 501),
        (b"MKDIR /a", 553),
        (b"RMDIR a/../b", 553),
        (b"RENAME", 501),
        (b"RENAME a b", 501),
        (b"RENAME ../a b", 501),
        (b"RENAME ../a\tb", 553),
        (b"RENAME a\t../b", 553),
        (b"RENAME a\tb\tc", 553),
        (b"RENAME a\t", 553),
        (b"RENAME \tb", 553),
        (b"USER", 501),
        (b"USER \xff", 501),
        (b"PASS", 501),
        (b"LIST ../x", 553),
        (b"LIST a//b", 553),
        (b"RETR ../x", 553),
        (b"RETR /etc/passwd", 553),
        (b"RETR a/", 553),
        (b"DELE ..", 553),
        (b"HASH a\tb", 553),
        (b"RETR \xff", 553),
    ];
    for (line, expected) in cases {
        assert_eq!(
            code(line),
            Some(*expected),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    let too_long = format!("RETR {}", vec!["n".repeat(200); 21].join("/"));
    assert_eq!(code(too_long.as_bytes()), Some(553));
}

#[test]
fn passwords_are_sent_but_never_shown() {
    let pass = Command::Pass(Password::new("hunter2"));
    assert_eq!(pass.encode(), b"PASS hunter2\r\n");
    assert_eq!(pass.to_string(), "PASS ***");
    assert!(!format!("{pass:?}").contains("hunter2"));
}

fn path_strategy() -> impl Strategy<Value = Path> {
    proptest::collection::vec("[^/\\\\\\x00-\\x1f\\x7f]{1,20}", 1..4)
        .prop_filter_map("valid names only", |names| Path::new(names.join("/")).ok())
}

proptest! {
    #[test]
    fn parse_never_panics(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Command::parse(&line);
    }

    #[test]
    fn encode_then_parse_is_identity(
        path in path_strategy(),
        to in path_strategy(),
        size in any::<u64>(),
        offset in any::<u64>(),
        account in "[^\\x00-\\x1f\\x7f]{1,20}",
    ) {
        for cmd in [
            Command::List(Some(path.clone())),
            Command::Retrieve(path.clone()),
            Command::Read { offset, length: size, path: path.clone() },
            Command::Stat(path.clone()),
            Command::Store { size, path: path.clone() },
            Command::Resume { size, path: path.clone() },
            Command::Delete(path.clone()),
            Command::Mkdir(path.clone()),
            Command::Rmdir(path.clone()),
            Command::Rename { from: path.clone(), to: to.clone() },
            Command::Hash(path.clone()),
            Command::User(account.clone()),
            Command::Pass(Password::new(account.clone())),
        ] {
            let wire = cmd.encode();
            prop_assert!(wire.ends_with(b"\r\n"));
            prop_assert_eq!(Command::parse(&wire[..wire.len() - 2]).unwrap(), cmd);
        }
    }

    /// Any number that is not plain decimal digits within u64 is a 501,
    /// whatever the path after it.
    #[test]
    fn numbers_are_digits_within_u64(word in "[-+0-9a-f]{1,25}") {
        let line = format!("STORE {word} ../x");
        let valid = word.bytes().all(|b| b.is_ascii_digit()) && word.parse::<u64>().is_ok();
        let expected = if valid { 553 } else { 501 };
        prop_assert_eq!(code(line.as_bytes()), Some(expected));
    }

    /// `quoted` writes ASCII as `{:?}` does.
    #[test]
    fn quotes_ascii_like_debug(text in "[\\x00-\\x7f]{0,30}") {
        prop_assert_eq!(quoted(&text), format!("{text:?}"));
    }
}

#[test]
fn quotes_bad_numbers() {
    let Err(ProtoError::BadArgument(why)) = Command::parse(b"READ 1\"x 2 f") else {
        panic!("a bad number parsed");
    };
    assert_eq!(
        why,
        r#"bad number "1\"x": expected decimal digits up to 18446744073709551615"#
    );
    assert_eq!(quoted("wss://é/\x1b"), "\"wss://é/\\u{1b}\"");
}

#[test]
fn the_verb_of_a_line_needs_no_valid_argument() {
    assert_eq!(Command::verb_of(b"stor x ../a"), Some(Verb::Store));
    assert_eq!(Command::verb_of(b"LIST"), Some(Verb::List));
    assert_eq!(Command::verb_of(b"RENAME a"), Some(Verb::Rename));
    assert_eq!(Command::verb_of(b"PROXY TCP4 1.2.3.4"), None);
    assert_eq!(Command::verb_of(b""), None);
}
