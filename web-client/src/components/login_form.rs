//! The login form, shown when the server asks for a login (`530`, or Log in
//! pressed on an anonymous session). The password goes from the field to
//! the session's memory and nowhere else: no browser storage, no URL.

use crate::components::{attrs, effect, field, on};
use crate::model::use_model;
use crate::session::use_session;
use leptos::ev;
use leptos::prelude::*;

/// Account and password.
#[component]
pub fn LoginForm() -> impl IntoView {
    let model = use_model();
    let session = use_session();
    let account = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    effect(move |_| {
        if let Some(input) = field("#login-account") {
            let _ = input.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = account.get_untracked().trim().to_string();
        if name.is_empty() {
            model.error("Enter the account name.");
            return;
        }
        session.login(name, password.get_untracked());
        password.set(String::new());
    };
    view! {
        <section {..attrs(&[("class", "panel login"), ("aria-labelledby", "login-title")])}>
            <h2 id="login-title">"Log in"</h2>
            <p class="hint">"This server has accounts: log in to see your files."</p>
            <form {..on(ev::submit, submit)}>
                <div class="fields">
                    <label for="login-account">"Account"</label>
                    <input
                        {..attrs(&[
                            ("id", "login-account"),
                            ("type", "text"),
                            ("autocomplete", "username"),
                            ("spellcheck", "false"),
                        ])}
                        {..on(ev::input, move |ev| account.set(event_target_value(&ev)))}
                        prop:value=move || account.get()
                    />
                    <label for="login-password">"Password"</label>
                    <input
                        {..attrs(&[
                            ("id", "login-password"),
                            ("type", "password"),
                            ("autocomplete", "current-password"),
                        ])}
                        {..on(ev::input, move |ev| password.set(event_target_value(&ev)))}
                        prop:value=move || password.get()
                    />
                </div>
                <div class="form-actions">
                    <button type="submit" class="primary">"Log in"</button>
                </div>
            </form>
        </section>
    }
}
