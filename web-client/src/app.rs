//! The page: header with the connection state, notices, and the four panels.
//! The model and the session are created here and given to every component
//! through context.

use crate::browser;
use crate::components::{
    connect_form::ConnectForm,
    console::Console,
    file_table::FileTable,
    status::{ConnectionBadge, NoticeBar},
    transfers::Transfers,
};
use crate::endpoint::{Endpoint, EndpointSignal};
use crate::model::Model;
use crate::session::Session;
use crate::transfers::Transfers;
use leptos::html::Input;
use leptos::prelude::*;

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let model = Model::new(browser::default_bridge_url());
    let endpoint: EndpointSignal = RwSignal::new(None::<Endpoint>);
    provide_context(model);
    provide_context(endpoint);
    provide_context(Session::new(model, endpoint));
    provide_context(Transfers::new(model, endpoint));
    // The upload file picker: opened by the upload button and by the console's STORE.
    let file_input: NodeRef<Input> = NodeRef::new();
    view! {
        <header class="top">
            <h1>"Ferry"</h1>
            <ConnectionBadge />
        </header>
        <NoticeBar />
        <main class="layout">
            <ConnectForm />
            <Transfers file_input=file_input />
            <FileTable />
            <Console file_input=file_input />
        </main>
    }
}
