//! The two reference workers of `make bench` (see bench/README or bench/run.sh).
//!
//! (a) bare: copies the request's method, path and headers to `ORIGIN_URL` and returns
//!     the origin's response. No session logic at all.
//! (b) floor (`--features floor`): the same, after one Durable Object round trip whose
//!     object runs one SQLite `SELECT` by key. That is the least that server-side
//!     session validation can cost: the gate's valid-session path does exactly one
//!     Durable Object request (one indexed read) before forwarding.

use std::cell::RefCell;
use worker::{event, Context, Env, Fetch, Headers, Request, RequestInit, RequestRedirect, Response, Result};

thread_local! {
    // Read once per isolate, like the gate's configuration.
    static ORIGIN: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn origin(env: &Env) -> Result<String> {
    ORIGIN.with(|o| {
        if let Some(v) = o.borrow().as_ref() {
            return Ok(v.clone());
        }
        let v = env.var("ORIGIN_URL")?.to_string().trim_end_matches('/').to_string();
        *o.borrow_mut() = Some(v.clone());
        Ok(v)
    })
}

async fn pass_through(req: &Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let target = match url.query() {
        Some(q) => format!("{}{}?{}", origin(env)?, url.path(), q),
        None => format!("{}{}", origin(env)?, url.path()),
    };
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if !name.eq_ignore_ascii_case("host") {
            headers.append(&name, &value)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    Fetch::Request(Request::new_with_init(&target, &init)?).send().await
}

#[cfg(not(feature = "floor"))]
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    pass_through(&req, &env).await
}

#[cfg(feature = "floor")]
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let stub = env.durable_object("FLOOR")?.id_from_name("user:bench")?.get_stub()?;
    let mut row = stub.fetch_with_str("https://floor/bench").await?;
    if row.status_code() != 200 {
        return Response::error("floor object failed", 503);
    }
    // Consume the object's answer, as the gate does with its session row.
    let _ = row.text().await?;
    pass_through(&req, &env).await
}

#[cfg(feature = "floor")]
mod object {
    use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

    #[derive(serde::Deserialize)]
    struct Row {
        v: String,
    }

    #[durable_object]
    pub struct FloorStore {
        state: State,
    }

    impl DurableObject for FloorStore {
        fn new(state: State, _env: Env) -> Self {
            let sql = state.storage().sql();
            // Schema and one row, like a session row keyed by its hash.
            let _ = sql.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)", None);
            let _ = sql.exec(
                "INSERT OR IGNORE INTO kv (k, v) VALUES (?, ?)",
                vec!["bench".into(), "{\"user\":\"bench\",\"roles\":[\"user\"]}".into()],
            );
            FloorStore { state }
        }

        async fn fetch(&self, req: Request) -> Result<Response> {
            let key = req.path();
            let key = key.trim_start_matches('/');
            let rows: Vec<Row> = self
                .state
                .storage()
                .sql()
                .exec("SELECT v FROM kv WHERE k = ?", vec![key.into()])?
                .to_array()?;
            match rows.into_iter().next() {
                Some(r) => Response::ok(r.v),
                None => Response::error("no row", 404),
            }
        }
    }
}
