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

#[cfg(all(feature = "floor", not(feature = "json")))]
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

#[cfg(feature = "json")]
#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let stub = env.durable_object("FLOOR")?.id_from_name("user:bench")?.get_stub()?;
    let msg = object::Msg::Validate {
        hash: "6f1e0c5b3a2d4e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f".into(),
        client: object::Client { ip: String::new(), ua: String::new(), https: false },
        slide: true,
    };
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(serde_json::to_string(&msg)?.into()));
    let mut row = stub.fetch_with_request(Request::new_with_init("https://floor/", &init)?).await?;
    if row.status_code() != 200 {
        return Response::error("floor object failed", 503);
    }
    let _answer: object::Answer = row.json().await?;
    pass_through(&req, &env).await
}

#[cfg(feature = "floor")]
mod object {
    use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

    #[derive(serde::Deserialize)]
    struct Row {
        v: String,
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Client {
        pub ip: String,
        pub ua: String,
        pub https: bool,
    }

    /// Shaped like the gate's store protocol (internally tagged, as the gate's is).
    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(tag = "op", rename_all = "snake_case")]
    pub enum Msg {
        Validate { hash: String, client: Client, slide: bool },
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    pub struct Session {
        handle: String,
        user: Option<String>,
        roles: Vec<String>,
        data: serde_json::Map<String, serde_json::Value>,
        created: u64,
        auth_time: u64,
        last_seen: u64,
        absolute_expiry: u64,
        login_ip: String,
        login_ua: String,
        last_ip: String,
        last_ua: String,
        flagged: bool,
        persistent: bool,
        via_http: bool,
    }

    #[cfg(feature = "json")]
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(tag = "status", rename_all = "snake_case")]
    pub enum Answer {
        Valid { session: Session, expires_at: u64, binding: String },
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
            #[cfg(feature = "json")]
            let _ = sql.exec(
                "INSERT OR IGNORE INTO kv (k, v) VALUES (?, ?)",
                vec![
                    "6f1e0c5b3a2d4e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f".into(),
                    r#"{"handle":"3f2a9c0d1b7e4a6f8c5d2e1b0a9f8e7d","user":"bench","roles":["user"],"data":{},"created":1764000000,"auth_time":1764000000,"last_seen":1764000000,"absolute_expiry":1764086400,"login_ip":"","login_ua":"","last_ip":"","last_ua":"","flagged":false,"persistent":false,"via_http":true}"#.into(),
                ],
            );
            FloorStore { state }
        }

        #[cfg(feature = "json")]
        async fn fetch(&self, mut req: Request) -> Result<Response> {
            let Msg::Validate { hash, .. } = req.json::<Msg>().await?;
            let rows: Vec<Row> = self
                .state
                .storage()
                .sql()
                .exec("SELECT v FROM kv WHERE k = ?", vec![hash.into()])?
                .to_array()?;
            let Some(row) = rows.into_iter().next() else {
                return Response::error("no row", 404);
            };
            let session: Session = serde_json::from_str(&row.v)?;
            Response::from_json(&Answer::Valid { session, expires_at: 1764001800, binding: "ok".into() })
        }

        #[cfg(not(feature = "json"))]
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
