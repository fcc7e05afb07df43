//! The HTTP side: the router, its shared state and the small handlers.

use crate::client_io::DirectHandle;
use crate::door::PendingSlot;
use crate::origin::OriginPolicy;
use crate::relay::{self, Announce, RelayContext};
use crate::static_files;
use crate::target::{Refusal, TargetPolicy};
use crate::Limits;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// State shared by every request.
pub(crate) struct AppState {
    /// Where relays may go.
    pub targets: TargetPolicy,
    /// Which pages may open relays.
    pub origins: OriginPolicy,
    /// What each relay's TCP side begins with.
    pub announce: Announce,
    /// Limits and timeouts.
    pub limits: Limits,
    /// One permit per open relay (`max_relays` in all).
    pub relay_slots: Arc<Semaphore>,
    /// Every running relay, so shutdown can wait for them.
    pub relays: TaskTracker,
    /// Cancelled when the bridge shuts down.
    pub shutdown: CancellationToken,
}

/// Assembles the routes: `/ws`, `/healthz`, and the static files (if any) for
/// everything else; every request first tells its connection's
/// [`PendingSlot`] that a head arrived.
pub(crate) fn router(state: Arc<AppState>, static_dir: Option<&Path>) -> Router {
    let router = Router::new()
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .with_state(state);
    let router = match static_dir {
        Some(dir) => router.fallback_service(static_files::service(dir)),
        None => router.fallback(not_found),
    };
    router.layer(axum::middleware::from_fn(head_received))
}

/// Lifts the connection's first-head deadline (see `door.rs`).
async fn head_received(request: Request, next: Next) -> Response {
    if let Some(pending) = request.extensions().get::<PendingSlot>() {
        pending.head_received(request.version());
    }
    next.run(request).await
}

/// The query of `GET /ws`.
#[derive(Debug, Deserialize)]
struct RelayQuery {
    /// `HOST:PORT` of the server wanted; the upstream when absent.
    target: Option<String>,
}

/// `GET /ws[?target=HOST:PORT]`: checks Origin and capacity, then upgrades
/// and relays (or, for a target not allowed, upgrades and closes with
/// [`POLICY_VIOLATION`](ferry_proto::close::POLICY_VIOLATION)).
async fn websocket(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    direct: Option<Extension<DirectHandle>>,
    pending: Option<Extension<PendingSlot>>,
    headers: HeaderMap,
    query: Result<Query<RelayQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Err(refused) = check_origin(&state.origins, &headers) {
        tracing::info!(%peer, "websocket refused: {refused}");
        return (StatusCode::FORBIDDEN, format!("{refused}\n")).into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    if state.shutdown.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the bridge is shutting down\n",
        )
            .into_response();
    }
    let Ok(slot) = state.relay_slots.clone().try_acquire_owned() else {
        tracing::warn!(%peer, max_relays = state.limits.max_relays, "websocket refused: too many relays");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many relays open; try again later\n",
        )
            .into_response();
    };
    let (requested, target) = match query {
        Ok(Query(query)) => {
            let requested = query
                .target
                .clone()
                .unwrap_or_else(|| state.targets.upstream().to_string());
            (requested, state.targets.decide(query.target.as_deref()))
        }
        Err(_) => (
            String::new(),
            Err(Refusal(
                "malformed query: expected ?target=HOST:PORT".into(),
            )),
        ),
    };
    let limits = &state.limits;
    let direct = direct.and_then(|Extension(DirectHandle(handle))| handle);
    let mut ctx = RelayContext {
        peer,
        announce: state.announce,
        requested,
        limits: limits.clone(),
        shutdown: state.shutdown.clone(),
        client: None,
    };
    let tracked = state.relays.token();
    upgrade
        .read_buffer_size(limits.ws_read_buffer_size)
        .write_buffer_size(limits.ws_write_buffer_size())
        .max_write_buffer_size(limits.ws_max_write_buffer_size())
        .max_message_size(limits.max_message_size)
        .max_frame_size(limits.max_message_size)
        .on_failed_upgrade(move |error| tracing::debug!(%peer, "websocket upgrade failed: {error}"))
        .on_upgrade(move |socket| async move {
            if let Some(Extension(pending)) = pending {
                pending.upgraded();
            }
            // The upgraded connection owns the socket while `socket` lives.
            ctx.client = direct.and_then(|handle| handle.upgrade());
            relay::run(socket, target, ctx).await;
            drop(slot);
            drop(tracked);
        })
}

/// `Ok` for requests without `Origin` (native clients) and for allowed
/// origins; otherwise the reason for 403.
fn check_origin(policy: &OriginPolicy, headers: &HeaderMap) -> Result<(), String> {
    let mut values = headers.get_all(header::ORIGIN).iter();
    let Some(origin) = values.next() else {
        return Ok(());
    };
    if values.next().is_some() {
        return Err("more than one Origin header".into());
    }
    let origin = origin.to_str().unwrap_or("(not text)");
    if policy.allows(origin) {
        Ok(())
    } else {
        Err(format!(
            "origin {origin} is not allowed (see --allow-origin)"
        ))
    }
}

/// `GET /healthz`: the process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Everything else when no `--static` directory is configured.
async fn not_found() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "not found (this bridge serves no web client; start it with --static DIR)\n",
    )
}
