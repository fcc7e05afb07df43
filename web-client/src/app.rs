//! The page: a header with the connection (a form while disconnected, a bar
//! once connected), the login form when the server asks, the file manager as
//! the main element, the transfers beside it, the console under it, and the
//! dialogs. The model and the session are created here and given to every
//! component through context; the URL's fragment says which folder is shown.

use crate::browser;
use crate::components::{
    connect_form::{ConnectForm, ConnectionBar},
    console::Console,
    dialogs::{DeleteDialog, MoveDialog, PreviewDialog, ShortcutsDialog},
    file_table::FileManager,
    login_form::LoginForm,
    shown,
    status::{ConnectionBadge, NoticeBar},
    transfers::Transfers,
};
use crate::endpoint::{Endpoint, EndpointSignal};
use crate::model::{Access, ConnState, Model};
use crate::session::Session;
use crate::transfers::Transfers;
use leptos::prelude::*;

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let model = Model::new(browser::default_bridge_url());
    let endpoint: EndpointSignal = RwSignal::new(None::<Endpoint>);
    let session = Session::new(model, endpoint);
    provide_context(model);
    provide_context(endpoint);
    provide_context(session);
    provide_context(Transfers::new(model, endpoint));
    model.go_to(browser::fragment_dir());
    // A reload of a connected tab connects to the same place again.
    if let Some((bridge, target)) = browser::remembered_connection() {
        model.bridge_url().set(bridge);
        session.connect(target);
    }
    // Opening a folder, Back, Forward: the fragment changed, list what it names.
    let hash_handle = window_event_listener(leptos::ev::hashchange, move |_| {
        model.go_to(browser::fragment_dir());
        if model.state_untracked() == ConnState::Connected {
            session.refresh();
        }
    });
    on_cleanup(move || hash_handle.remove());
    let disconnected = move || model.state() == ConnState::Disconnected;
    let login = move || model.is_connected() && model.access() == Access::LoginRequired;
    view! {
        <header class="top">
            <h1>"Ferry"</h1>
            {shown(move || !disconnected(), move || view! {
                <ConnectionBar />
            })}
            <ConnectionBadge />
        </header>
        <NoticeBar />
        <main class="layout" class:read-only=move || !model.can_write()>
            {shown(disconnected, move || view! {
                <ConnectForm />
            })}
            {shown(login, move || view! {
                <LoginForm />
            })}
            <FileManager />
            <aside class="side">
                <Transfers />
            </aside>
            <Console />
            <PreviewDialog />
            <DeleteDialog />
            <MoveDialog />
            <ShortcutsDialog />
        </main>
    }
}
