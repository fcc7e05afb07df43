//! What each request does around its exchange: which typed exchange it runs,
//! and what its success or failure changes on the page.

use super::download::Download;
use super::exchange::{self, DataPhase, Failed, NoData};
use super::task::Task;
use super::upload::Upload;
use super::{Request, Rows};
use crate::format;
use crate::messages;
use crate::model::{LineKind, Transfer};
use crate::transport::ConnError;
use ferry_proto::{Delete, Exchange, Hash, Help, List, Name, Noop, Quit, Retrieve, Store};
use web_sys::File;

impl Task<'_> {
    /// Runs one request; `Ok(true)` when it changed the server's files.
    pub(super) async fn execute(&mut self, request: Request) -> Result<bool, ConnError> {
        let transfer = request.transfer();
        let result = match request {
            Request::List(rows) => self.list(rows).await,
            Request::Retrieve { name, transfer } => self.retrieve(name, transfer).await,
            Request::Store {
                file,
                name,
                transfer,
            } => self.store(file, name, transfer).await,
            Request::Delete(name) => self.delete(name).await,
            Request::Hash(name) => self.reply_only(&Hash(name.into())).await,
            Request::Noop => self.reply_only(&Noop).await,
            Request::Help => self.reply_only(&Help).await,
            Request::Quit => self.quit().await,
        };
        // The connection ended under the transfer.
        if let (Err(end), Some(transfer)) = (&result, transfer) {
            transfer.fail(messages::transfer_cut(end));
        }
        result
    }

    async fn exchange<E: Exchange>(
        &mut self,
        exchange: &E,
        data: &mut impl DataPhase,
    ) -> Result<Result<E::Success, Failed>, ConnError> {
        exchange::run(self.conn, self.model, exchange, data).await
    }

    /// Shows why `exchange` failed; returns the words for a transfer row.
    fn show_failure<E: Exchange>(&self, exchange: &E, failure: &Failed) -> String {
        let verb = exchange.command().verb();
        let why = messages::failed(verb, exchange.subject(), failure);
        self.model.error(why.clone());
        why
    }

    /// A command whose success is just its reply line (HASH, NOOP, HELP).
    async fn reply_only<E: Exchange>(&mut self, exchange: &E) -> Result<bool, ConnError> {
        if let Err(failure) = self.exchange(exchange, &mut NoData).await? {
            self.show_failure(exchange, &failure);
        }
        Ok(false)
    }

    async fn list(&mut self, rows: Rows) -> Result<bool, ConnError> {
        match self.exchange(&List(None), &mut NoData).await? {
            Ok(entries) => {
                if rows == Rows::InConsole {
                    for entry in &entries {
                        self.model
                            .log_line(LineKind::Data, format::listing_line(entry));
                    }
                }
                self.model.set_files(entries);
            }
            Err(failure) => {
                self.show_failure(&List(None), &failure);
            }
        }
        Ok(false)
    }

    async fn retrieve(&mut self, name: Name, transfer: Transfer) -> Result<bool, ConnError> {
        let exchange = Retrieve(name.into());
        let mut download = Download::new(transfer);
        transfer.start();
        if let Err(failure) = self.exchange(&exchange, &mut download).await? {
            transfer.fail(self.show_failure(&exchange, &failure));
            return Ok(false);
        }
        let name = exchange.0.as_str();
        match download.save(name) {
            Ok(()) => {
                transfer.succeed(format!("saved as “{name}”"));
                let size = format::human_size(download.bytes_received());
                self.model
                    .log_line(LineKind::Info, format!("Saved “{name}” ({size})."));
            }
            Err(e) => {
                let why = format!("the browser could not save the file: {e}");
                transfer.fail(why.clone());
                self.model
                    .error(format!("Download of “{name}” failed: {why}."));
            }
        }
        Ok(false)
    }

    async fn store(
        &mut self,
        file: File,
        name: Name,
        transfer: Transfer,
    ) -> Result<bool, ConnError> {
        let size = file.size() as u64;
        let exchange = Store {
            path: name.into(),
            size,
        };
        match self
            .exchange(&exchange, &mut Upload::new(file, transfer))
            .await?
        {
            Ok(()) => {
                transfer.progress(size);
                transfer.succeed("stored");
                Ok(true)
            }
            Err(failure) => {
                transfer.fail(self.show_failure(&exchange, &failure));
                Ok(false)
            }
        }
    }

    async fn delete(&mut self, name: Name) -> Result<bool, ConnError> {
        let exchange = Delete(name.into());
        match self.exchange(&exchange, &mut NoData).await? {
            Ok(()) => {
                let name = exchange.0.as_str();
                self.model.forget_file(name);
                self.model.notify(format!("Deleted “{name}”."));
                Ok(true)
            }
            Err(failure) => {
                self.show_failure(&exchange, &failure);
                Ok(false)
            }
        }
    }

    async fn quit(&mut self) -> Result<bool, ConnError> {
        match self.exchange(&Quit, &mut NoData).await? {
            Ok(()) => self.quitting = true,
            Err(failure) => {
                self.show_failure(&Quit, &failure);
            }
        }
        Ok(false)
    }
}
