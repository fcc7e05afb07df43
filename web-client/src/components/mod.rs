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
use leptos::reactive::owner::Owner;
use leptos::tachys::html::attribute::custom::{custom_attribute, CustomAttr};
use leptos::tachys::html::attribute::{
    Attribute, AttributeValue, NamedAttributeKey, NextAttribute,
};
use leptos::tachys::html::event::{Custom, EventDescriptor, On};
use leptos::tachys::reactive_graph::{OwnedView, SharedReactiveFunction};
use leptos::tachys::renderer::{types::Element, Rndr};
use leptos::tachys::view::keyed::keyed;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;

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
/// the children, so all of them share one render path; the condition and
/// the children are boxed, so its memo and its block are compiled once,
/// not once per use.
pub fn shown<V: IntoView + 'static>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> V + Send + Sync + 'static,
) -> Reactive<Option<AnyView>> {
    shown_boxed(Box::new(when), Box::new(move || children().into_any()))
}

type Children = Box<dyn Fn() -> AnyView + Send + Sync>;

fn shown_boxed(
    when: Box<dyn Fn() -> bool + Send + Sync>,
    children: Children,
) -> Reactive<Option<AnyView>> {
    let when = memo_boxed(when);
    reactive(move || when.get().then(&children))
}

/// `Memo::new` for a condition, behind one boxed function type: a memo is
/// compiled once per function type, so the page's conditions share one.
pub fn memo(f: impl Fn() -> bool + Send + Sync + 'static) -> Memo<bool> {
    memo_boxed(Box::new(f))
}

fn memo_boxed(f: Box<dyn Fn() -> bool + Send + Sync>) -> Memo<bool> {
    Memo::new(move |_| f())
}

/// An event handler (`{..on(ev::click, f)}` in `view!`, for `on:click=f`).
/// `on:click=…`, `on:keydown=…`… give every event a handler type of its own,
/// each with its own erased build, rebuild and clone; this gives them all
/// one: the event by its name (a `Custom` event, whose listener is added
/// just as a named one's: on the element, not delegated, not capturing) and
/// a boxed handler that gets the event as the type the name implies.
///
/// The page's fields are bound with it too, as `bind:value` and
/// `bind:checked` bind them: `prop:value` (`prop:checked`) from the signal
/// and an `input` (`change`) handler that sets it. Those property and
/// handler types are compiled for the page anyway; each binding type was
/// one more, with its own build, rebuild and listener.
pub fn on<E>(event: E, mut f: impl FnMut(E::EventType) + 'static) -> Handler
where
    E: EventDescriptor,
    E::EventType: JsCast,
{
    leptos::tachys::html::event::on(
        Custom::new(event.name()),
        Box::new(move |ev: web_sys::Event| f(ev.unchecked_into())),
    )
}

/// What [`on`] makes.
pub type Handler = On<Custom<web_sys::Event>, Box<dyn FnMut(web_sys::Event)>>;

/// The page's `<input>` that `selector` selects. Fields are found this way
/// rather than through `NodeRef<Input>`s, whose loading and attribute were
/// code of their own; the effects that look for one run once the view is
/// mounted, and the handlers run later still.
pub fn field(selector: &str) -> Option<web_sys::HtmlInputElement> {
    web_sys::window()?
        .document()?
        .query_selector(selector)
        .ok()??
        .dyn_into()
        .ok()
}

/// `Effect::new(f)` behind one boxed function type: an effect's task is
/// compiled once per function type, so the page's effects share one copy.
/// `f` gets `None` on its first run, `Some(())` after.
pub fn effect(f: impl FnMut(Option<()>) + 'static) {
    effect_boxed(Box::new(f));
}

fn effect_boxed(mut f: Box<dyn FnMut(Option<()>)>) {
    Effect::new(move |prev: Option<()>| f(prev));
}

/// What tells the rows of a [`rows`] list apart.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum RowKey {
    /// A log line or a transfer: its id.
    Id(u64),
    /// A listing entry: its row is built again when its size, time or kind change.
    Entry {
        name: String,
        size: Option<u64>,
        modified: u64,
        is_dir: bool,
    },
}

/// One row of a [`rows`] list: its key and what builds its view.
pub struct Row {
    key: RowKey,
    view: Box<dyn FnOnce() -> AnyView + Send>,
}

impl Row {
    pub fn new(key: RowKey, view: impl FnOnce() -> AnyView + Send + 'static) -> Row {
        Row {
            key,
            view: Box::new(view),
        }
    }
}

/// A keyed list, as `<For>` makes it (each row built once, in a reactive
/// owner of its own, moved rather than rebuilt), but with one item, key and
/// view type for all the page's lists, so its diffing and its render effect
/// are compiled once instead of once per list.
pub fn rows(each: impl Fn() -> Vec<Row> + Send + 'static) -> impl IntoView {
    keyed_rows(Box::new(each))
}

fn keyed_rows(each: Box<dyn Fn() -> Vec<Row> + Send>) -> impl IntoView {
    let parent = Owner::current().expect("no reactive owner");
    let build = move |_, row: Row| {
        let owner = parent.with(Owner::new);
        let view = owner.with(|| (row.view)());
        (drop, OwnedView::new_with_owner(view, owner))
    };
    reactive(move || keyed(each(), |row: &Row| row.key.clone(), build.clone()))
}

/// An element's attributes that never change (`{..attrs(&[("type", "button")])}`
/// in `view!`), as one attribute. With `erase_components` every attribute is
/// boxed as an `AnyAttribute` whose build, rebuild and clone are compiled once
/// per attribute type, and `id="…"`, `type="…"`, `title="…"`… are each a type
/// of their own; this one type serves all of them, and one box per element
/// replaces one per attribute. The DOM is the same: each is set with
/// `setAttribute`, as `view!` sets them.
pub fn attrs(pairs: &'static [(&'static str, &'static str)]) -> StaticAttrs {
    StaticAttrs(pairs)
}

/// An attribute whose value changes from element to element (`{..attr("title",
/// title)}` in `view!`). `view!` gives `title=…`, `aria-label=…`, `href=…`… a
/// type per name, so each name's value type gets its own erased build,
/// rebuild and clone; this gives all names one type per value type. The DOM
/// is the same (`setAttribute`, `removeAttribute` for `None`).
pub fn attr<V: AttributeValue>(key: &'static str, value: V) -> CustomAttr<&'static str, V> {
    custom_attribute(key, value)
}

/// See [`attrs`].
#[derive(Clone, Copy, PartialEq)]
pub struct StaticAttrs(&'static [(&'static str, &'static str)]);

impl StaticAttrs {
    fn set(self, el: &Element) {
        for (key, value) in self.0 {
            Rndr::set_attribute(el, key, value);
        }
    }
}

impl Attribute for StaticAttrs {
    const MIN_LENGTH: usize = 0;
    type State = (Element, StaticAttrs);
    type AsyncOutput = Self;
    type Cloneable = Self;
    type CloneableOwned = Self;

    fn html_len(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len() + 4).sum()
    }

    fn to_html(self, buf: &mut String, _: &mut String, _: &mut String, _: &mut String) {
        for (key, value) in self.0 {
            let value = value.replace('&', "&amp;").replace('"', "&quot;");
            buf.push_str(&format!(" {key}=\"{value}\""));
        }
    }

    fn hydrate<const FROM_SERVER: bool>(self, el: &Element) -> Self::State {
        (el.clone(), self)
    }

    fn build(self, el: &Element) -> Self::State {
        self.set(el);
        (el.clone(), self)
    }

    /// Another element's constants on this one (a branch of the same type): the
    /// old ones go, the new ones are set.
    fn rebuild(self, state: &mut Self::State) {
        let (el, old) = state;
        if *old != self {
            for (key, _) in old.0 {
                Rndr::remove_attribute(el, key);
            }
            self.set(el);
            *old = self;
        }
    }

    fn into_cloneable(self) -> Self {
        self
    }

    fn into_cloneable_owned(self) -> Self {
        self
    }

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self {
        self
    }

    fn keys(&self) -> Vec<NamedAttributeKey> {
        self.0
            .iter()
            .map(|(key, _)| NamedAttributeKey::Attribute((*key).into()))
            .collect()
    }
}

impl NextAttribute for StaticAttrs {
    type Output<NewAttr: Attribute> = (Self, NewAttr);

    fn add_any_attr<NewAttr: Attribute>(self, new_attr: NewAttr) -> Self::Output<NewAttr> {
        (self, new_attr)
    }
}
