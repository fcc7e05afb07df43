//! Client → server: each WebSocket data message written to the upstream
//! completely before the next is read, so a server that stops reading stops
//! the client's messages too (TCP flow control does the rest).

use super::end::End;
use super::traffic::Traffic;
use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::WriteHalf;

/// Copies client messages to the upstream: binary as they are, text as its
/// UTF-8 bytes. Each message is written completely before the next is read.
pub(super) async fn run(
    ws: &mut SplitStream<WebSocket>,
    tcp: &mut WriteHalf<'_>,
    traffic: &Traffic,
) -> End {
    while let Some(message) = ws.next().await {
        let data = match message {
            Ok(Message::Binary(data)) => data,
            Ok(Message::Text(text)) => text.into(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return End::ClientClosed,
            Err(error) => return End::ClientFailed(error),
        };
        if let Err(error) = tcp.write_all(&data).await {
            return End::UpstreamFailed(error);
        }
        traffic.count_up(data.len());
    }
    End::ClientClosed
}
