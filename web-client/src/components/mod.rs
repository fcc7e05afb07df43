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
use leptos::tachys::reactive_graph::SharedReactiveFunction;
use std::sync::{Arc, Mutex};

/// A reactive block or attribute value behind one boxed function type.
/// tachys compiles its render effect (call, build, rebuild) once per
/// function type: a closure of its own type gets a copy of its own, a
/// `Reactive<T>` shares one copy per `T` with every other. (`view!` boxes
/// closures written inline the same way; this is for the others.)
pub type Reactive<T> = SharedReactiveFunction<T>;

pub fn reactive<T: 'static>(f: impl FnMut() -> T + Send + 'static) -> Reactive<T> {
    Arc::new(Mutex::new(f))
}

/// `children` while `when` holds, nothing otherwise: what `<Show>` does
/// (the condition memoised, so the children are built again only when it
/// turns true), without the boxed children and fallback each `<Show>` adds
/// to the page's WebAssembly. Its output is an `Option<AnyView>` whatever
/// the children, so all of them share one render path.
pub fn shown<V: IntoView + 'static>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> V + Send + Sync + 'static,
) -> Reactive<Option<AnyView>> {
    let when = Memo::new(move |_| when());
    reactive(move || when.get().then(|| children().into_any()))
}
