//! Byte pipes a [`Session`](crate::Session) can run over: TCP straight to a
//! server, or WebSocket through a bridge. Both carry the same protocol bytes;
//! only the pipe differs.

use crate::close_tap::{CloseTap, TappedClose};
use crate::{default_tls_config, ClientError, Target};
use bytes::{Bytes, BytesMut};
use ferry_proto::close;
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The reason tungstenite puts in the 1002 close frame it substitutes for a
/// close code it considers invalid.
const SUBSTITUTED_CLOSE_REASON: &str = "Protocol violation";

/// How many bytes one TCP read may bring in, unless told otherwise.
const TCP_READ_CHUNK: usize = 64 * 1024;

/// A bidirectional byte stream to a Ferry server.
///
/// `recv` hands out chunks in arrival order; chunk boundaries mean nothing
/// (for WebSocket they are message boundaries, which the contract says carry
/// no meaning either).
pub trait Transport: Send {
    /// Writes all of `bytes` (owned, so a WebSocket can send them without a copy).
    fn send(&mut self, bytes: Bytes) -> impl Future<Output = Result<(), ClientError>> + Send;
    /// The next chunk of bytes from the server, or `None` once it closed the
    /// stream normally.
    fn recv(&mut self) -> impl Future<Output = Result<Option<Bytes>, ClientError>> + Send;
    /// Closes the stream politely; errors are ignored, the peer may be gone.
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

/// A direct TCP connection to a server.
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
    buffer: BytesMut,
    read_size: usize,
}

impl TcpTransport {
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> TcpTransport {
        TcpTransport::with_read_size(stream, TCP_READ_CHUNK)
    }

    /// Wraps a connected stream whose reads bring in up to `read_size`
    /// bytes each (a bulk-transfer client may want larger reads).
    pub fn with_read_size(stream: TcpStream, read_size: usize) -> TcpTransport {
        // Commands are single small writes that wait for an answer.
        let _ = stream.set_nodelay(true);
        TcpTransport {
            stream,
            buffer: BytesMut::new(),
            read_size: read_size.max(1),
        }
    }

    /// Resolves `host` and connects to the first address that answers.
    /// `shown` is how the address is named in errors.
    pub async fn connect(host: &str, port: u16, shown: &str) -> Result<TcpTransport, ClientError> {
        open_tcp(host, port, shown).await.map(TcpTransport::new)
    }
}

/// Resolves `host` and connects to the first of its addresses that answers.
async fn open_tcp(host: &str, port: u16, shown: &str) -> Result<TcpStream, ClientError> {
    let addresses: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| ClientError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "the host has no addresses");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // Commands are single small writes that wait for an answer.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => last_error = error,
        }
    }
    Err(connect_error(shown, last_error))
}

fn connect_error(shown: &str, source: io::Error) -> ClientError {
    if source.kind() == io::ErrorKind::ConnectionRefused {
        ClientError::ConnectionRefused {
            target: shown.to_owned(),
        }
    } else {
        ClientError::Connect {
            target: shown.to_owned(),
            source,
        }
    }
}

impl Transport for TcpTransport {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        self.stream
            .write_all(&bytes)
            .await
            .map_err(|source| ClientError::ConnectionLost { source })
    }

    async fn recv(&mut self) -> Result<Option<Bytes>, ClientError> {
        // `reserve` reuses the allocation once earlier chunks are dropped.
        self.buffer.reserve(self.read_size);
        let read = self
            .stream
            .read_buf(&mut self.buffer)
            .await
            .map_err(|source| ClientError::ConnectionLost { source })?;
        if read == 0 {
            return Ok(None);
        }
        Ok(Some(self.buffer.split().freeze()))
    }

    async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

/// A WebSocket connection to a Ferry bridge, which relays to a server.
#[derive(Debug)]
pub struct WsTransport {
    stream: WebSocketStream<CloseTap<MaybeTlsStream<TcpStream>>>,
    /// The bridge's first close frame as sent, if it was one (see [`CloseTap`]).
    tapped: TappedClose,
}

impl WsTransport {
    /// Opens the WebSocket. For `wss://`, `tls` decides which certificates
    /// are trusted; `None` means the webpki roots.
    pub async fn connect(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<WsTransport, ClientError> {
        let request = url
            .into_client_request()
            .map_err(|error| handshake_error(url, error))?;
        let uri = request.uri();
        let secure = uri
            .scheme_str()
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss"));
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let tcp = open_tcp(&host, port, url).await?;
        let stream = if secure {
            let server_name =
                ServerName::try_from(host).map_err(|_| ClientError::InvalidTarget {
                    input: url.to_owned(),
                    reason: "the host is not a valid TLS server name".to_owned(),
                })?;
            let connector =
                tokio_rustls::TlsConnector::from(tls.unwrap_or_else(default_tls_config));
            let tls_stream = connector
                .connect(server_name, tcp)
                .await
                .map_err(|error| handshake_error(url, tungstenite::Error::Io(error)))?;
            MaybeTlsStream::Rustls(tls_stream)
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        let tapped = TappedClose::default();
        let stream = CloseTap::new(stream, tapped.clone());
        match tokio_tungstenite::client_async_with_config(request, stream, None).await {
            Ok((stream, _response)) => Ok(WsTransport { stream, tapped }),
            Err(error) => Err(handshake_error(url, error)),
        }
    }
}

/// Plain words for a failed WebSocket (and TLS) handshake.
fn handshake_error(url: &str, error: tungstenite::Error) -> ClientError {
    let reason = match error {
        tungstenite::Error::Io(source) => match source
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            Some(rustls::Error::InvalidCertificate(problem)) => format!(
                "TLS failed: its certificate is not trusted ({problem}); \
                 for a private CA, pass --ca-cert with the CA's PEM file"
            ),
            Some(problem) => format!("TLS failed: {problem}"),
            None => return connect_error(url, source),
        },
        tungstenite::Error::Http(response) => {
            let status = response.status();
            format!(
                "HTTP {} {}",
                status.as_str(),
                status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_owned()
        }
        tungstenite::Error::Url(problem) => {
            return ClientError::InvalidTarget {
                input: url.to_owned(),
                reason: problem.to_string(),
            }
        }
        tungstenite::Error::Tls(problem) => format!("TLS failed: {problem}"),
        other => other.to_string(),
    };
    ClientError::Handshake {
        url: url.to_owned(),
        reason,
    }
}

/// The error (or normal end) that a bridge's close frame stands for. The
/// frame as it came off the wire (`tapped`) wins over tungstenite's version.
fn close_outcome(
    frame: Option<CloseFrame>,
    tapped: Option<(u16, String)>,
) -> Result<Option<Bytes>, ClientError> {
    let (code, reason) = match (tapped, frame) {
        (Some(tapped), _) => tapped,
        (None, Some(frame)) => (u16::from(frame.code), frame.reason.to_string()),
        (None, None) => return Ok(None),
    };
    match code {
        close::NORMAL | close::GOING_AWAY => Ok(None),
        close::POLICY_VIOLATION => Err(ClientError::BridgeNotAllowed { reason }),
        close::BAD_GATEWAY => Err(ClientError::BridgeUnreachable { reason }),
        // What tungstenite makes of a 1014 (see ClientError::BridgeUndecodableClose).
        close::PROTOCOL_ERROR if reason == SUBSTITUTED_CLOSE_REASON => {
            Err(ClientError::BridgeUndecodableClose)
        }
        code => Err(ClientError::BridgeClosed { code, reason }),
    }
}

impl Transport for WsTransport {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        self.stream
            .send(Message::Binary(bytes))
            .await
            .map_err(ws_error)
    }

    async fn recv(&mut self) -> Result<Option<Bytes>, ClientError> {
        loop {
            let message = match self.stream.next().await {
                None => return Ok(None),
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => return Ok(None),
                Some(Err(error)) => return Err(ws_error(error)),
                Some(Ok(message)) => message,
            };
            match message {
                Message::Binary(bytes) if !bytes.is_empty() => return Ok(Some(bytes)),
                Message::Text(text) if !text.is_empty() => return Ok(Some(Bytes::from(text))),
                Message::Close(frame) => {
                    let tapped = self.tapped.lock().ok().and_then(|mut tapped| tapped.take());
                    return close_outcome(frame, tapped);
                }
                // Pings are answered by tungstenite itself; empty messages carry nothing.
                _ => continue,
            }
        }
    }

    async fn close(&mut self) {
        let frame = CloseFrame {
            code: CloseCode::from(close::NORMAL),
            reason: "".into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), self.stream.close(Some(frame))).await;
    }
}

/// A WebSocket failure after the handshake: the connection is lost.
fn ws_error(error: tungstenite::Error) -> ClientError {
    match error {
        tungstenite::Error::Io(source) => ClientError::ConnectionLost { source },
        other => ClientError::ConnectionLost {
            source: io::Error::other(other.to_string()),
        },
    }
}

/// Either transport, chosen at run time from a [`Target`].
#[derive(Debug)]
pub enum AnyTransport {
    /// Direct TCP.
    Tcp(TcpTransport),
    /// WebSocket through a bridge.
    WebSocket(Box<WsTransport>),
}

impl AnyTransport {
    /// Opens the pipe `target` names, giving up after `timeout`; `tls` as
    /// for [`WsTransport::connect`].
    pub async fn connect(
        target: &Target,
        timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<AnyTransport, ClientError> {
        let shown = target.to_string();
        let connecting = async {
            match target {
                Target::Tcp { host, port } => TcpTransport::connect(host, *port, &shown)
                    .await
                    .map(AnyTransport::Tcp),
                Target::WebSocket { url } => WsTransport::connect(url, tls)
                    .await
                    .map(|ws| AnyTransport::WebSocket(Box::new(ws))),
            }
        };
        tokio::time::timeout(timeout, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(ClientError::ConnectTimeout {
                    target: shown.clone(),
                    seconds: timeout.as_secs(),
                })
            })
    }
}

impl Transport for AnyTransport {
    async fn send(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        match self {
            AnyTransport::Tcp(tcp) => tcp.send(bytes).await,
            AnyTransport::WebSocket(ws) => ws.send(bytes).await,
        }
    }

    async fn recv(&mut self) -> Result<Option<Bytes>, ClientError> {
        match self {
            AnyTransport::Tcp(tcp) => tcp.recv().await,
            AnyTransport::WebSocket(ws) => ws.recv().await,
        }
    }

    async fn close(&mut self) {
        match self {
            AnyTransport::Tcp(tcp) => tcp.close().await,
            AnyTransport::WebSocket(ws) => ws.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(code: u16, reason: &str) -> Option<CloseFrame> {
        Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })
    }

    #[test]
    fn bridge_close_codes_become_errors() {
        assert!(matches!(close_outcome(None, None), Ok(None)));
        assert!(matches!(
            close_outcome(frame(close::NORMAL, ""), None),
            Ok(None)
        ));
        let err = close_outcome(
            frame(close::POLICY_VIOLATION, "target 10.0.0.1:22 is not allowed"),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the bridge does not allow this server: target 10.0.0.1:22 is not allowed"
        );
        let err = close_outcome(frame(close::BAD_GATEWAY, "connection refused"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the bridge could not reach the server: connection refused"
        );
        assert!(matches!(
            close_outcome(frame(close::PROTOCOL_ERROR, "Protocol violation"), None),
            Err(ClientError::BridgeUndecodableClose)
        ));
        // The frame as tapped off the wire wins over tungstenite's substitute.
        let err = close_outcome(
            frame(close::PROTOCOL_ERROR, "Protocol violation"),
            Some((
                close::BAD_GATEWAY,
                "upstream 127.0.0.1:9 unreachable".into(),
            )),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the bridge could not reach the server: upstream 127.0.0.1:9 unreachable"
        );
        assert!(matches!(
            close_outcome(frame(close::INTERNAL_ERROR, "x"), None),
            Err(ClientError::BridgeClosed { code: 1011, .. })
        ));
    }
}
