//! Runs the `ferry` binary under test and reads what it left: its output,
//! its one-line failures, the files it wrote.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use tempfile::TempDir;

/// Starts `ferry` with `args` in directory `cwd` (also its home), every
/// standard stream piped.
pub fn spawn_ferry(cwd: &Path, args: &[&str]) -> Child {
    spawn_ferry_with(cwd, args, &[])
}

/// [`spawn_ferry`] with these environment variables set too (and no
/// `FERRY_PASSWORD` unless they set it).
pub fn spawn_ferry_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .env_remove("FERRY_PASSWORD")
        .env("HOME", cwd)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start ferry")
}

/// Runs `ferry` with `args` and `env` in directory `cwd`, feeding `stdin`.
pub fn ferry_with(cwd: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = spawn_ferry_with(cwd, args, env);
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `ferry` with `args` in directory `cwd`, feeding `stdin`.
pub fn ferry_in(cwd: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = spawn_ferry(cwd, args);
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `ferry` with `args` in a fresh temporary directory.
pub fn ferry(args: &[&str]) -> (Output, TempDir) {
    let cwd = tempfile::tempdir().unwrap();
    let output = ferry_in(cwd.path(), args, b"");
    (output, cwd)
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a failure: non-zero exit and one line on stderr containing `words`.
pub fn assert_fails_with(output: &Output, words: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected failure, stderr: {err}");
    assert!(
        err.contains(words),
        "stderr {err:?} should contain {words:?}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one-line reason expected, got {err:?}"
    );
}

/// Names of the entries of a directory, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
