//! Fuzz targets for what the bridge reads from a request before relaying:
//! the `target` query value ([`TargetPolicy::decide`]) and the `Origin`
//! header ([`OriginPolicy`]), plus the configured targets and origins
//! (`parse_target`, `OriginPolicy::new`). The properties: a decision only
//! ever names a configured entry (never the request's text), a refusal
//! fits a close frame, and origins compare in their normal form.
//!
//! bolero `check!`s: one second each under `cargo test`,
//! `BOLERO_RANDOM_TEST_TIME_MS` for longer (scripts/fuzz.sh).

use bolero::check;
use ferry_bridge::{parse_target, OriginPolicy, TargetPolicy};

/// Bytes with the top bit set become pieces of addresses and URLs.
fn interesting(raw: &[u8]) -> String {
    const PIECES: &[&str] = &[
        ":",
        "[",
        "]",
        "::1",
        "127.0.0.1",
        "localhost",
        "LocalHost",
        "8888",
        "0",
        "65536",
        "/",
        "//",
        "://",
        "http",
        "https",
        "ws",
        "wss",
        ":80",
        ":443",
        "é",
        " ",
        "\t",
        "%3A",
        "@",
        "*",
        ".",
        "-",
        "_",
        "null",
        "ferry.example",
        "\0",
    ];
    ferry_testkit::data::spliced_text(raw, PIECES)
}

#[test]
fn target_decision() {
    let policy = TargetPolicy::new(
        parse_target("127.0.0.1:8888").unwrap(),
        ["files.example:2121", "[::1]:9000", "localhost:8889"].map(|t| parse_target(t).unwrap()),
    );
    check!().with_type::<Vec<u8>>().for_each(|raw| {
        let requested = interesting(raw);
        match policy.decide(Some(&requested)) {
            // What is connected to is a configured entry, equal to the
            // request in normal form.
            Ok(target) => {
                assert!(policy.allowed().contains(&target), "{target}");
                assert_eq!(parse_target(&requested).unwrap(), target);
            }
            Err(refusal) => {
                assert!(refusal.0.len() <= 123, "{} bytes", refusal.0.len());
                if let Ok(parsed) = parse_target(&requested) {
                    assert!(!policy.allowed().contains(&parsed));
                }
            }
        }
        // A configured target reads back as itself from its normal form.
        if let Ok(target) = parse_target(&requested) {
            assert_eq!(parse_target(&target.to_string()).unwrap(), target);
            let own = TargetPolicy::new(target.clone(), []);
            assert_eq!(own.decide(Some(&target.to_string())), Ok(target.clone()));
            assert_eq!(own.decide(None), Ok(target));
        }
    });
}

#[test]
fn origin_check() {
    let defaults = OriginPolicy::defaults_for("127.0.0.1:8080".parse().unwrap());
    check!()
        .with_type::<(Vec<u8>, Vec<u8>)>()
        .for_each(|(configured, sent)| {
            let configured = interesting(configured);
            let sent = interesting(sent);
            if defaults.allows(&sent) {
                // Only the bridge's own origins and the Trunk dev server.
                let lower = sent.trim().to_ascii_lowercase();
                assert!(
                    ["http://", "https://"]
                        .iter()
                        .any(|scheme| lower.starts_with(scheme)),
                    "{sent:?}"
                );
                assert!(
                    lower.contains(":8080") || lower.contains(":8081"),
                    "{sent:?}"
                );
            }
            let Ok(policy) = OriginPolicy::new(std::slice::from_ref(&configured)) else {
                return;
            };
            if policy.allows_any() {
                assert_eq!(configured, "*");
                assert!(policy.allows(&sent));
                return;
            }
            // An entry allows itself, and its normal form is a fixed point.
            assert!(policy.allows(&configured), "{configured:?}");
            let normal = policy.origins().to_vec();
            assert_eq!(normal.len(), 1);
            assert_eq!(OriginPolicy::new(&normal).unwrap(), policy);
            if policy.allows(&sent) {
                assert!(OriginPolicy::new(std::slice::from_ref(&sent))
                    .is_ok_and(|other| other.origins() == normal));
            }
        });
}
