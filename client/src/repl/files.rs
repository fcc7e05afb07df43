//! The prompt's commands on names and directories: LIST, CD, PWD, STAT,
//! HASH, DELETE, MKDIR, RMDIR and RENAME, every path relative to the remote
//! working directory. CD is checked with STAT, so the working directory is
//! always one that existed when it was entered.

use super::{parts, Failure, Prompt};
use crate::table;
use ferry_client::ClientError;
use ferry_proto::EntryKind;

impl Prompt<'_> {
    /// `LIST [dir]`: prints the table.
    pub(super) fn list(&mut self, typed: Option<&str>) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let dir = match typed {
            Some(typed) => cwd.resolve(typed)?,
            None => cwd.path().cloned(),
        };
        let entries = Self::cancellable(self.runtime, session.list(dir.as_ref()))??;
        let dir = dir.as_ref().map(|dir| dir.as_str());
        print!("{}", table::render_in(dir, &entries, false));
        Ok(())
    }

    /// `CD [dir]`: the home without one; `..` is resolved here, never sent.
    pub(super) fn cd(&mut self, typed: Option<&str>) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let target = connection.cwd.join(typed.unwrap_or("/"))?;
        if let Some(path) = target.path() {
            let (session, _) = parts(&mut connection)?;
            let status = Self::cancellable(self.runtime, session.stat(path))??;
            if let EntryKind::File { .. } = status.kind {
                return Err(ClientError::RemoteIsFile {
                    path: path.to_string(),
                }
                .into());
            }
        }
        println!("Now in {}", table::terminal_safe(&target.to_string()));
        connection.cwd = target;
        Ok(())
    }

    /// PWD: the remote working directory.
    pub(super) fn pwd(&mut self) -> Result<(), Failure> {
        let connection = self.open()?;
        println!("{}", table::terminal_safe(&connection.cwd.to_string()));
        Ok(())
    }

    /// STAT: a file with its size, or a directory.
    pub(super) fn stat(&mut self, typed: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let path = cwd.resolve_entry(typed)?;
        let status = Self::cancellable(self.runtime, session.stat(&path))??;
        println!("{}", table::describe_status(path.as_str(), &status));
        Ok(())
    }

    /// HASH: prints the server's SHA-256 of a file.
    pub(super) fn hash(&mut self, typed: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let path = cwd.resolve_entry(typed)?;
        let digest = Self::cancellable(self.runtime, session.hash(&path))??;
        println!("{digest}  {}", table::terminal_safe(path.as_str()));
        Ok(())
    }

    /// DELETE: removes a file.
    pub(super) fn delete(&mut self, typed: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let path = cwd.resolve_entry(typed)?;
        Self::cancellable(self.runtime, session.delete(&path))??;
        println!("Deleted \"{}\"", table::terminal_safe(path.as_str()));
        Ok(())
    }

    /// MKDIR: creates a directory.
    pub(super) fn mkdir(&mut self, typed: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let path = cwd.resolve_entry(typed)?;
        Self::cancellable(self.runtime, session.mkdir(&path))??;
        println!(
            "Created the directory \"{}\"",
            table::terminal_safe(path.as_str())
        );
        Ok(())
    }

    /// RMDIR: removes an empty directory.
    pub(super) fn rmdir(&mut self, typed: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let path = cwd.resolve_entry(typed)?;
        Self::cancellable(self.runtime, session.rmdir(&path))??;
        println!(
            "Removed the directory \"{}\"",
            table::terminal_safe(path.as_str())
        );
        Ok(())
    }

    /// RENAME: both paths relative to the working directory.
    pub(super) fn rename(&mut self, from: &str, to: &str) -> Result<(), Failure> {
        let mut connection = self.open()?;
        let (session, cwd) = parts(&mut connection)?;
        let (from, to) = (cwd.resolve_entry(from)?, cwd.resolve_entry(to)?);
        Self::cancellable(self.runtime, session.rename(&from, &to))??;
        println!(
            "Renamed \"{}\" to \"{}\"",
            table::terminal_safe(from.as_str()),
            table::terminal_safe(to.as_str())
        );
        Ok(())
    }
}
