//! The page's parts, one component (or a few small ones) per file. Each takes
//! the model and the session from context.

pub mod connect_form;
pub mod console;
pub mod dialogs;
pub mod file_table;
pub mod icons;
pub mod login_form;
pub mod status;
pub mod transfers;

use leptos::prelude::*;

/// `children` while `when` holds, nothing otherwise: what `<Show>` does
/// (the condition memoised, so the children are built again only when it
/// turns true), without the boxed children and fallback each `<Show>` adds
/// to the page's WebAssembly.
pub fn shown<V: IntoView + 'static>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> V + Send + Sync + 'static,
) -> impl IntoView {
    let when = Memo::new(move |_| when());
    move || when.get().then(&children)
}
