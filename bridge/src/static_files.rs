//! Serving the built web client: files with their MIME types (including
//! `application/wasm`), compression, and cache headers suited to Trunk's
//! hashed file names.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// For files whose name carries a content hash: never changes, cache for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else (index.html above all): revalidate on every use.
const REVALIDATE: &str = "no-cache";

/// A service for the files under `dir`: `/` is `index.html`; precompressed
/// `.br` / `.gz` siblings are used when present, otherwise responses are
/// compressed on the fly (brotli or gzip, as the client accepts).
pub(crate) fn service(dir: &Path) -> Router {
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
        .layer(CompressionLayer::new())
}

/// Sets `Cache-Control` by file name.
async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// Whether the last path segment holds a content hash as Trunk writes it:
/// `-` followed by at least 16 hex digits (`app-1a2b3c4d5e6f7a8b_bg.wasm`).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    if name.ends_with(".html") {
        return false;
    }
    name.split('-')
        .skip(1)
        .any(|part| part.bytes().take_while(u8::is_ascii_hexdigit).count() >= 16)
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names() {
        assert!(is_hashed("/ferry-web-client-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed("/ferry-web-client-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed("/assets/style-0123456789abcdef0123.css"));
        assert!(!is_hashed("/"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/ferry-web-client_bg.wasm"));
        assert!(!is_hashed("/favicon.ico"));
        assert!(!is_hashed("/page-1a2b3c4d5e6f7a8b.html"));
    }
}
