//! Previews: the first 256 KiB of a text file with `READ`, or a whole image
//! read into JS memory (never WASM memory) and shown from a `blob:` URL.

use super::exchange::{Checked, DataPhase, Failed};
use super::task::Task;
use crate::format;
use crate::messages;
use crate::model::{Preview, PreviewBody};
use crate::transport::ConnError;
use ferry_proto::{Path, Read};
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag, Url};

/// Bytes of a text file a preview reads.
pub const TEXT_PREVIEW_BYTES: u64 = 256 * 1024;
/// Largest image a preview reads.
pub const IMAGE_PREVIEW_BYTES: u64 = 32 * 1024 * 1024;

/// The MIME type of an image the browser can show, by the name's extension.
pub fn image_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        "avif" => "image/avif",
        _ => return None,
    })
}

/// The bytes of a text preview, in WASM memory (bounded by the READ's length).
#[derive(Default)]
struct TextBytes(Vec<u8>);

impl DataPhase for TextBytes {
    fn received(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The bytes of an image, as JS `Uint8Array`s.
struct ImageParts(js_sys::Array);

impl DataPhase for ImageParts {
    fn received(&mut self, bytes: &[u8]) {
        self.0.push(&js_sys::Uint8Array::from(bytes));
    }
}

/// Whether bytes look like text: no NUL in them.
fn looks_like_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0)
}

impl Task<'_> {
    pub(super) async fn preview(&mut self, path: Path, size: u64) -> Result<bool, ConnError> {
        let shown = |body| Preview {
            path: path.clone(),
            size,
            body,
        };
        self.model.show_preview(Some(shown(PreviewBody::Loading)));
        let name = path.last_name();
        let body = match image_type(name.as_str()) {
            Some(_) if size > IMAGE_PREVIEW_BYTES => PreviewBody::Unavailable(format!(
                "This image is too large to preview ({}): download it to see it.",
                format::human_size(size)
            )),
            Some(mime) => {
                let exchange = Read {
                    offset: 0,
                    length: size,
                    path: path.clone(),
                };
                let mut parts = ImageParts(js_sys::Array::new());
                match self.checked(&exchange, &mut parts).await? {
                    Ok(()) => match object_url(&parts.0, mime) {
                        Ok(url) => PreviewBody::Image(url),
                        Err(e) => {
                            PreviewBody::Unavailable(format!("The browser cannot show it: {e}."))
                        }
                    },
                    Err(failure) => self.unavailable(&exchange, &failure),
                }
            }
            None => {
                let exchange = Read {
                    offset: 0,
                    length: TEXT_PREVIEW_BYTES,
                    path: path.clone(),
                };
                let mut text = TextBytes::default();
                match self.checked(&exchange, &mut text).await? {
                    Ok(()) if looks_like_text(&text.0) => PreviewBody::Text {
                        truncated: size > text.0.len() as u64,
                        text: String::from_utf8_lossy(&text.0).into_owned(),
                    },
                    Ok(()) => PreviewBody::Unavailable(
                        "This file does not look like text or an image: download it to open it."
                            .into(),
                    ),
                    Err(failure) => self.unavailable(&exchange, &failure),
                }
            }
        };
        // Shown only if that preview is still open (the user may have closed it).
        if self.model.preview_of(&path) {
            self.model.show_preview(Some(shown(body)));
        } else if let PreviewBody::Image(url) = body {
            let _ = Url::revoke_object_url(&url);
        }
        Ok(false)
    }

    fn unavailable(&self, exchange: &dyn Checked, failure: &Failed) -> PreviewBody {
        let verb = exchange.line().verb();
        PreviewBody::Unavailable(messages::failed(verb, exchange.about(), failure))
    }
}

fn object_url(parts: &js_sys::Array, mime: &str) -> Result<String, String> {
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let text = |e: JsValue| crate::browser::js_error_text(&e);
    let blob = Blob::new_with_u8_array_sequence_and_options(parts, &options).map_err(text)?;
    Url::create_object_url_with_blob(&blob).map_err(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_types() {
        assert_eq!(image_type("a.PNG"), Some("image/png"));
        assert_eq!(image_type("photo.jpeg"), Some("image/jpeg"));
        assert_eq!(image_type("notes.txt"), None);
        assert_eq!(image_type("png"), None);
        assert!(looks_like_text(b"hello\n"));
        assert!(!looks_like_text(b"\x89PNG\0"));
    }
}
