//! Edge sign-in endpoints (issue 13), on when `OIDC_ISSUER` is set:
//!
//! - `login`: `GET /.sessiongate/login` sends the browser to the provider.
//! - `callback`: `GET /.sessiongate/oidc/callback` starts (or elevates) the session.
//! - `backchannel`: `POST /.sessiongate/oidc/backchannel-logout`, from the provider.
//! - `failure`: the `login_failed` answers and their audit events.
//! - `end_session_url`: RP-initiated logout, for `POST /.sessiongate/logout`.

mod backchannel;
mod callback;
mod failure;
mod login;

pub use backchannel::backchannel;
pub use callback::callback;
pub use login::login;

use crate::core::oidc::flow;
use crate::core::oidc::settings::OidcSettings;
use crate::core::session::IdpLink;
use crate::edge::idp;
use crate::edge::log;
use crate::edge::request::Incoming;
use crate::edge::respond;
use worker::{Response, Result};

/// The callback URL registered at the provider.
fn redirect_uri(inc: &Incoming) -> String {
    format!("{}/.sessiongate/oidc/callback", inc.own_origin)
}

/// 503 `idp_unavailable`: the provider cannot be reached or its documents are refused.
fn unavailable(e: &idp::Unavailable) -> Result<Response> {
    log::failure("idp_unavailable", &e.0);
    respond::error(503, "idp_unavailable")
}

/// The provider's logout URL for an edge-signed-in session that ends (`None` when the
/// provider has no `end_session_endpoint` or cannot be reached: the gate's own logout
/// stands anyway).
pub async fn end_session_url(s: &OidcSettings, inc: &Incoming, link: Option<&IdpLink>) -> Option<String> {
    let d = match idp::discovery(s).await {
        Ok(d) => d,
        Err(e) => {
            log::failure("idp_unavailable", &e.0);
            return None;
        }
    };
    let endpoint = d.end_session_endpoint.as_deref()?;
    let back = format!("{}{}", inc.own_origin, s.post_logout_path);
    let hint = link.map(|l| l.id_token.as_str());
    Some(flow::end_session_url(endpoint, hint, &s.client_id, &back))
}
