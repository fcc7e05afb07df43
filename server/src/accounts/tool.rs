//! `ferry-server accounts add|passwd|remove|list`: the account tool.
//!
//! Each command reads the whole file, changes it in memory and writes it
//! back atomically with mode 0600 (`store`), holding a lock on its
//! directory meanwhile so two runs at once take turns; a running server
//! picks the new file up by itself. `list` never shows a hash, not even a
//! part of one.

use super::account::{Access, Account, AccountName, Home};
use super::file::AccountsFile;
use super::password::PasswordHash;
use super::prompt::{read_new_password, PasswordSource};
use super::store;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// Manages the accounts file.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Adds an account (asks for its password twice, without echo).
    Add(AddArgs),
    /// Gives an account a new password.
    Passwd(PasswdArgs),
    /// Removes an account.
    Remove(RemoveArgs),
    /// Lists the accounts: name, home, access and quota (never the hashes).
    List(ListArgs),
}

/// `accounts add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The account's name.
    name: AccountName,
    #[command(flatten)]
    file: FileArg,
    /// Its home, relative to the server's root (default: the root).
    #[arg(long, value_name = "DIR")]
    home: Option<Home>,
    /// May read and list but not change anything.
    #[arg(long)]
    read_only: bool,
    /// Most bytes it may keep: bytes, or with KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_quota)]
    quota: Option<u64>,
    #[command(flatten)]
    input: PasswordInput,
}

/// `accounts passwd`.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// The account's name.
    name: AccountName,
    #[command(flatten)]
    file: FileArg,
    #[command(flatten)]
    input: PasswordInput,
}

/// `accounts remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The account's name.
    name: AccountName,
    #[command(flatten)]
    file: FileArg,
}

/// `accounts list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    file: FileArg,
}

/// `--accounts FILE`, which every command takes.
#[derive(Debug, Args)]
struct FileArg {
    /// The accounts file (TOML); created with mode 0600 if missing.
    #[arg(long = "accounts", value_name = "FILE")]
    path: PathBuf,
}

/// `--password-stdin`.
#[derive(Debug, Args)]
struct PasswordInput {
    /// Read the password from the first line of standard input instead of asking.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordInput {
    fn source(&self) -> PasswordSource {
        if self.password_stdin {
            PasswordSource::StandardInput
        } else {
            PasswordSource::Terminal
        }
    }
}

/// Runs one command; what it did goes to standard output.
pub fn run(command: AccountsCommand) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Add(AddArgs {
            name,
            file,
            home,
            read_only,
            quota,
            input,
        }) => {
            let account = Account {
                name: name.clone(),
                home: home.unwrap_or_default(),
                access: if read_only {
                    Access::ReadOnly
                } else {
                    Access::ReadWrite
                },
                quota,
            };
            // Checked before asking for a password, and again under the lock.
            if read(&file.path)?.get(name.as_str()).is_some() {
                anyhow::bail!(
                    "there is already an account named {name} in {}",
                    file.path.display()
                );
            }
            let hash = new_hash(input.source(), &name)?;
            let description = describe(&account);
            update(&file.path, |accounts| accounts.add(account, hash))?;
            println!("added {description}");
        }
        AccountsCommand::Passwd(PasswdArgs { name, file, input }) => {
            if read(&file.path)?.get(name.as_str()).is_none() {
                anyhow::bail!(
                    "there is no account named {name} in {}",
                    file.path.display()
                );
            }
            let hash = new_hash(input.source(), &name)?;
            update(&file.path, |accounts| accounts.set_password(&name, hash))?;
            println!("changed the password of {name}");
        }
        AccountsCommand::Remove(RemoveArgs { name, file }) => {
            update(&file.path, |accounts| accounts.remove(&name))?;
            println!("removed {name}");
        }
        AccountsCommand::List(ListArgs { file }) => {
            print!("{}", listing(&read(&file.path)?));
        }
    }
    Ok(())
}

fn read(path: &Path) -> anyhow::Result<AccountsFile> {
    Ok(AccountsFile::read_or_empty(path)?)
}

/// Reads the file, applies `change` and writes the file back, all while
/// holding the directory's lock (never while waiting for a person to type).
fn update(
    path: &Path,
    change: impl FnOnce(&mut AccountsFile) -> Result<(), String>,
) -> anyhow::Result<()> {
    let _turn = store::lock_directory(path)
        .with_context(|| format!("cannot lock the directory of {}", path.display()))?;
    let mut accounts = read(path)?;
    change(&mut accounts).map_err(|error| anyhow::anyhow!("{error} in {}", path.display()))?;
    store::write_private(path, accounts.render().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn new_hash(source: PasswordSource, name: &AccountName) -> anyhow::Result<PasswordHash> {
    let password = read_new_password(source, name.as_str())?;
    PasswordHash::new(&password).map_err(anyhow::Error::msg)
}

/// `alice (home alice, read-write, quota 10GiB)`.
fn describe(account: &Account) -> String {
    format!(
        "{} (home {}, {}, quota {})",
        account.name,
        account.home,
        account.access,
        quota_text(account.quota)
    )
}

/// The table `list` prints: a header, then one row per account by name.
fn listing(accounts: &AccountsFile) -> String {
    let rows: Vec<[String; 4]> = accounts
        .accounts()
        .map(|account| {
            [
                account.name.to_string(),
                account.home.to_string(),
                account.access.to_string(),
                quota_text(account.quota),
            ]
        })
        .collect();
    let header = ["NAME", "HOME", "ACCESS", "QUOTA"].map(str::to_owned);
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A quota as `--quota` would take it: the largest unit that divides it.
fn quota_text(quota: Option<u64>) -> String {
    let Some(bytes) = quota else {
        return "none".to_owned();
    };
    const UNITS: [(u64, &str); 6] = [
        (1 << 30, "GiB"),
        (1_000_000_000, "GB"),
        (1 << 20, "MiB"),
        (1_000_000, "MB"),
        (1 << 10, "KiB"),
        (1_000, "KB"),
    ];
    UNITS
        .iter()
        .find(|(factor, _)| bytes >= *factor && bytes % factor == 0)
        .map(|(factor, unit)| format!("{}{unit}", bytes / factor))
        .unwrap_or_else(|| bytes.to_string())
}

/// `--quota`: the server's one size parser, bounded to what TOML can hold.
fn parse_quota(text: &str) -> Result<u64, String> {
    let bytes = crate::cli::parse_size(text)?;
    if bytes > i64::MAX as u64 {
        return Err("quota too large".to_owned());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_are_shown_in_the_largest_exact_unit() {
        assert_eq!(quota_text(None), "none");
        assert_eq!(quota_text(Some(0)), "0");
        assert_eq!(quota_text(Some(1500)), "1500");
        assert_eq!(quota_text(Some(10 << 30)), "10GiB");
        assert_eq!(quota_text(Some(2_000_000_000)), "2GB");
        assert_eq!(quota_text(Some(3 << 20)), "3MiB");
        assert_eq!(quota_text(Some(5_000)), "5KB");
        for shown in ["10GiB", "2GB", "3MiB", "5KB", "1500"] {
            let bytes = parse_quota(shown).unwrap();
            assert_eq!(quota_text(Some(bytes)), shown);
        }
    }

    #[test]
    fn quota_sizes_use_the_servers_parser() {
        assert_eq!(parse_quota("1KB"), Ok(1000));
        assert_eq!(parse_quota("1KiB"), Ok(1024));
        assert_eq!(parse_quota("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_quota("2GiB"), Ok(2 << 30));
        assert!(parse_quota("16EiB").is_err());
        assert!(parse_quota("9223372036854775808").is_err());
        assert!(parse_quota("lots").is_err());
    }

    #[test]
    fn the_listing_is_aligned_and_holds_no_hash() {
        let mut accounts = AccountsFile::default();
        let hash =
            PasswordHash::parse(crate::accounts::password::dummy().to_string().as_str()).unwrap();
        for (name, home, access, quota) in [
            ("bob", Home::Root, Access::ReadOnly, None),
            (
                "alice",
                "alice".parse().unwrap(),
                Access::ReadWrite,
                Some(1 << 30),
            ),
        ] {
            let account = Account {
                name: name.parse().unwrap(),
                home,
                access,
                quota,
            };
            accounts.add(account, hash.clone()).unwrap();
        }
        assert_eq!(
            listing(&accounts),
            "NAME   HOME    ACCESS      QUOTA\n\
             alice  alice   read-write  1GiB\n\
             bob    (root)  read-only   none\n"
        );
    }
}
