//! The probe sequence: real requests through a `Client`, turned into findings.
//!
//! 1. transport (HTTP -> HTTPS redirect, HSTS);
//! 2. anonymous page visits (base URL, the login page, `--path`s), recording every
//!    `Set-Cookie` of every redirect hop;
//! 3. `--login`: session ID before vs after login, and whether the pre-login ID (or one the
//!    scanner planted) is authenticated afterwards; a "check page" that needs login tells
//!    live sessions from dead ones;
//! 4. `--logout`: is the old ID refused afterwards;
//! 5. identity headers sent by the client: reflected, or do they open the check page;
//! 6. N fresh session IDs (anonymous visits, or logins) and their analysis;
//! 7. `--idle-probe`: a fresh session left alone for the given time must be refused;
//! 8. after the fact: cookie attributes, the session ID in URLs or bodies, gate-only
//!    headers that reached the client.

use super::cookie::{self, SetCookie};
use super::entropy;
use super::finding::{redact, Check, Finding, Severity};
use super::http::{Client, Request, Response, Url};
use super::recipe::{form_encode, Recipe};
use super::report::Report;
use std::time::Duration;

/// Sent as the value of spoofed identity headers and searched for in responses.
pub const PROBE_IDENTITY: &str = "scanner-probe";
pub const IDENTITY_HEADERS: [&str; 3] = ["X-Session-User", "X-Forwarded-User", "Remote-User"];
const GATE_ONLY_HEADERS: [&str; 2] = ["X-Session-Command", "X-Session-Assertion"];
const MAX_HOPS: usize = 5;

#[derive(Debug, Clone)]
pub struct Options {
    pub base: String,
    pub login: Option<Recipe>,
    pub logout: Option<Recipe>,
    pub samples: usize,
    pub idle_probe: Option<Duration>,
    /// Name of the session cookie, when the heuristics would not find it.
    pub cookie: Option<String>,
    /// A page that needs login (tells live sessions from dead ones).
    pub check: Option<String>,
    /// More pages to visit.
    pub paths: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base: String::new(),
            login: None,
            logout: None,
            samples: 20,
            idle_probe: None,
            cookie: None,
            check: None,
            paths: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Anonymous,
    Login,
    Other,
}

struct Observation {
    url: Url,
    seen_on: String,
    cookie: SetCookie,
    phase: Phase,
}

/// A minimal cookie jar: one value per name, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.into(), value.into()));
    }
    fn apply(&mut self, c: &SetCookie) {
        self.0.retain(|(n, _)| *n != c.name);
        if !c.is_clearing() {
            self.0.push((c.name.clone(), c.value.clone()));
        }
    }
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }
    fn only(name: &str, value: &str) -> Jar {
        Jar(vec![(name.into(), value.into())])
    }
}

struct Probe<'a> {
    client: &'a mut dyn Client,
    base: Url,
    report: Report,
    observed: Vec<Observation>,
    log: Vec<(String, Response)>,
    phase: Phase,
}

fn label(method: &str, url: &Url) -> String {
    format!("{method} {}", url.path)
}

impl Probe<'_> {
    /// One request, no redirects followed; every response is kept for the leak checks.
    fn send(&mut self, method: &str, url: &Url, jar: Option<&Jar>, body: Option<&str>, extra: &[(&str, &str)]) -> Result<Response, String> {
        let mut req = Request {
            method: method.into(),
            url: url.to_url_string(),
            headers: Vec::new(),
            body: None,
        };
        req.headers
            .push(("Accept".into(), "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8".into()));
        if let Some(c) = jar.and_then(Jar::header) {
            req.headers.push(("Cookie".into(), c));
        }
        if method != "GET" {
            // What a browser sends on a same-origin form post.
            req.headers.push(("Origin".into(), self.base.origin()));
            req.headers.push(("Sec-Fetch-Site".into(), "same-origin".into()));
        }
        if let Some(b) = body {
            req.headers
                .push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
            req.body = Some(b.into());
        }
        for (k, v) in extra {
            req.headers.push(((*k).into(), (*v).into()));
        }
        self.report.requests += 1;
        let resp = self
            .client
            .send(&req)
            .map_err(|e| format!("{} {}: {e}", method, url.to_url_string()))?;
        let seen_on = label(method, url);
        for raw in resp.all("set-cookie") {
            if let Some(c) = cookie::parse(raw) {
                self.observed.push(Observation {
                    url: url.clone(),
                    seen_on: seen_on.clone(),
                    cookie: c,
                    phase: self.phase,
                });
            }
        }
        self.log.push((seen_on, resp.clone()));
        Ok(resp)
    }

    /// Sends and follows same-origin redirects (at most 5), updating `jar` from every hop.
    fn fetch(&mut self, method: &str, url: &Url, jar: &mut Jar, body: Option<&str>) -> Result<Vec<(Url, Response)>, String> {
        let mut chain = Vec::new();
        let (mut method, mut url, mut body) = (method.to_string(), url.clone(), body.map(str::to_string));
        for _ in 0..=MAX_HOPS {
            let resp = self.send(&method, &url, Some(jar), body.as_deref(), &[])?;
            for raw in resp.all("set-cookie") {
                if let Some(c) = cookie::parse(raw) {
                    jar.apply(&c);
                }
            }
            let next = if resp.is_redirect() {
                resp.header("location").and_then(|l| url.join(l).ok())
            } else {
                None
            };
            let status = resp.status;
            chain.push((url.clone(), resp));
            match next {
                Some(n) if n.same_origin(&self.base) => {
                    if !matches!(status, 307 | 308) {
                        method = "GET".into();
                        body = None;
                    }
                    url = n;
                }
                _ => break,
            }
        }
        Ok(chain)
    }

    fn finding(&mut self, f: Finding) {
        self.report.findings.push(f);
    }

    fn transport(&mut self) -> Result<(), String> {
        let base = self.base.clone();
        let local = base.is_loopback();
        let local_note = " (loopback: plain HTTP is normal for local development; scan the deployed https:// URL for a real verdict)";
        if base.scheme == "http" {
            let r = self.send("GET", &base, None, None, &[])?;
            let loc = r.header("location").unwrap_or("").to_string();
            if r.is_redirect() && loc.starts_with("https://") {
                self.report.passed.push(format!(
                    "HTTP -> HTTPS: GET {} -> {} Location: {loc}",
                    base.to_url_string(),
                    r.status
                ));
                match Url::parse(&loc).and_then(|u| self.send("GET", &u, None, None, &[]).map(|r| (u, r))) {
                    Ok((u, r)) => self.hsts(&u, &r),
                    Err(e) => self.report.skipped.push(format!("HSTS: could not fetch the HTTPS URL: {e}")),
                }
            } else {
                self.finding(Finding::new(
                    Check::TransportNoHttpsRedirect,
                    if local { Severity::Info } else { Severity::High },
                    base.origin(),
                    format!(
                        "GET {} -> {} {}{}",
                        base.to_url_string(),
                        r.status,
                        if loc.is_empty() {
                            "(no redirect)".into()
                        } else {
                            format!("Location: {loc}")
                        },
                        if local { local_note } else { "" }
                    ),
                ));
                self.finding(Finding::new(
                    Check::TransportNoHsts,
                    if local { Severity::Info } else { Severity::Medium },
                    base.origin(),
                    format!(
                        "served over plain HTTP{}: Strict-Transport-Security {}{}",
                        "",
                        match r.header("strict-transport-security") {
                            Some(h) => format!("is sent ({h}) but browsers ignore it over http://"),
                            None => "absent".into(),
                        },
                        if local { local_note } else { "" }
                    ),
                ));
            }
        } else {
            let r = self.send("GET", &base, None, None, &[])?;
            self.hsts(&base, &r);
            if base.port.is_none() || base.port == Some(443) {
                let mut plain = base.clone();
                plain.scheme = "http".into();
                plain.port = None;
                match self.send("GET", &plain, None, None, &[]) {
                    Ok(r) if r.is_redirect() && r.header("location").map(|l| l.starts_with("https://")).unwrap_or(false) => self
                        .report
                        .passed
                        .push(format!("HTTP -> HTTPS: GET {} -> {}", plain.to_url_string(), r.status)),
                    Ok(r) => self.finding(Finding::new(
                        Check::TransportNoHttpsRedirect,
                        Severity::High,
                        plain.origin(),
                        format!("GET {} -> {} (no redirect to https://)", plain.to_url_string(), r.status),
                    )),
                    Err(e) => self
                        .report
                        .skipped
                        .push(format!("HTTP -> HTTPS: port 80 not reachable ({e}); fine if HTTP is closed")),
                }
            } else {
                self.report
                    .skipped
                    .push("HTTP -> HTTPS: the base URL uses a non-default port, so the plain-HTTP port is unknown".into());
            }
        }
        Ok(())
    }

    fn hsts(&mut self, url: &Url, r: &Response) {
        match r.header("strict-transport-security") {
            None => self.finding(Finding::new(
                Check::TransportNoHsts,
                Severity::Medium,
                url.origin(),
                format!(
                    "GET {} -> {} without a Strict-Transport-Security header",
                    url.to_url_string(),
                    r.status
                ),
            )),
            Some(h) => {
                let max_age = h
                    .split(';')
                    .filter_map(|p| p.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("max-age"))
                    .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok())
                    .unwrap_or(0);
                if max_age < 31_536_000 {
                    self.finding(Finding::new(
                        Check::TransportHstsWeak,
                        Severity::Low,
                        url.origin(),
                        format!("Strict-Transport-Security: {h}"),
                    ));
                } else {
                    self.report.passed.push(format!("HSTS: Strict-Transport-Security: {h}"));
                }
            }
        }
    }

    fn login(&mut self, recipe: &Recipe, fields: &[(String, String)], jar: &mut Jar) -> Result<Vec<(Url, Response)>, String> {
        let mut url = self.base.join(&recipe.url)?;
        let body = form_encode(fields);
        let chain = if recipe.method == "GET" {
            if !body.is_empty() {
                url.path = format!("{}{}{body}", url.path, if url.path.contains('?') { '&' } else { '?' });
            }
            self.fetch("GET", &url, jar, None)?
        } else {
            self.fetch(&recipe.method, &url, jar, Some(&body))?
        };
        let status = chain.first().map(|(_, r)| r.status).unwrap_or(0);
        if status >= 400 {
            return Err(format!(
                "the login recipe '{}' answered {status}: check the recipe and the credentials in the environment",
                recipe.describe()
            ));
        }
        Ok(chain)
    }

    fn alive(&mut self, check: &Url, name: &str, id: &str) -> Result<(bool, u16), String> {
        let r = self.send("GET", check, Some(&Jar::only(name, id)), None, &[])?;
        Ok((r.is_success(), r.status))
    }
}

/// Picks the session cookie among what was set: a session-like name first, then the
/// longest value.
fn pick_session(cookies: &[&SetCookie]) -> Option<String> {
    let live: Vec<&&SetCookie> = cookies.iter().filter(|c| !c.is_clearing()).collect();
    live.iter()
        .filter(|c| cookie::looks_like_session(&c.name))
        .max_by_key(|c| c.value.len())
        .or_else(|| live.iter().max_by_key(|c| c.value.len()))
        .map(|c| c.name.clone())
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where in the body the ID sits: inside a URL (link, form action, query) or as text.
fn in_url_context(body: &str, at: usize) -> bool {
    let before = &body[..at];
    let token_start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '('))
        .map(|i| i + 1)
        .unwrap_or(0);
    let token = &before[token_start..];
    token.contains('/') || token.contains('?') || token.contains(';') || token.ends_with('=')
}

/// Replaces every occurrence of `id` in `s` by its redacted form.
fn scrub(s: &str, id: &str) -> String {
    s.replace(id, &format!("<{}>", redact(id)))
}

fn excerpt(body: &str, at: usize, id: &str) -> String {
    let start = body[..at].char_indices().rev().nth(40).map(|(i, _)| i).unwrap_or(0);
    let end_from = at + id.len();
    let end = body[end_from..]
        .char_indices()
        .nth(40)
        .map(|(i, _)| end_from + i)
        .unwrap_or(body.len());
    scrub(&body[start..end], id).replace(['\n', '\r'], " ")
}

/// Runs every probe. `env` resolves recipe variables; `now_unix` is for the time-based
/// ID check. Errors: bad options, unreachable site, failed login.
pub fn run(client: &mut dyn Client, opts: &Options, env: &dyn Fn(&str) -> Option<String>, now_unix: u64) -> Result<Report, String> {
    let base = Url::parse(&opts.base)?;
    let login_fields = opts.login.as_ref().map(|r| r.resolve(env)).transpose()?;
    let logout_fields = opts.logout.as_ref().map(|r| r.resolve(env)).transpose()?;
    let mut p = Probe {
        client,
        base: base.clone(),
        report: Report {
            target: base.to_url_string(),
            ..Default::default()
        },
        observed: Vec::new(),
        log: Vec::new(),
        phase: Phase::Anonymous,
    };

    // 1. Transport.
    p.transport()?;

    // 2. Anonymous visits.
    let mut pages = vec![base.clone()];
    if let Some(l) = &opts.login {
        pages.push(base.join(&l.url)?);
    }
    for path in &opts.paths {
        pages.push(base.join(path)?);
    }
    pages.dedup_by(|a, b| a.to_url_string() == b.to_url_string());
    let mut anon_jar = Jar::default();
    for page in &pages {
        if let Err(e) = p.fetch("GET", page, &mut anon_jar, None) {
            p.report.skipped.push(format!("visit: {e}"));
        }
    }

    // 3. Login and fixation.
    let mut name = opts.cookie.clone();
    let mut session: Option<(Jar, String)> = None;
    let mut check: Option<Url> = None;
    let mut oracle = false;
    if let (Some(recipe), Some(fields)) = (&opts.login, &login_fields) {
        p.phase = Phase::Login;
        let pre_jar = anon_jar.clone();
        let mut jar = anon_jar.clone();
        let chain = p.login(recipe, fields, &mut jar)?;
        p.phase = Phase::Other;
        if name.is_none() {
            let at_login: Vec<&SetCookie> = p.observed.iter().filter(|o| o.phase == Phase::Login).map(|o| &o.cookie).collect();
            let anon: Vec<&SetCookie> = p
                .observed
                .iter()
                .filter(|o| o.phase == Phase::Anonymous)
                .map(|o| &o.cookie)
                .collect();
            name = pick_session(&at_login).or_else(|| pick_session(&anon));
        }
        let first = &chain[0].1;
        let first_desc = format!(
            "{} -> {}{}",
            recipe.describe(),
            first.status,
            first.header("location").map(|l| format!(" Location: {l}")).unwrap_or_default()
        );
        match name.clone().and_then(|n| jar.get(&n).map(|v| (n, v.to_string()))) {
            None => {
                p.finding(Finding::new(
                    Check::SessionCookieNotFound,
                    Severity::Info,
                    "login",
                    format!("{first_desc}; no cookie was set on any hop, so ID quality, fixation, logout and idle checks could not run"),
                ));
                name = None;
            }
            Some((n, post_id)) => {
                // The check page: --check, else where the login redirected to (without its query).
                check = match &opts.check {
                    Some(c) => Some(base.join(c)?),
                    None => chain.last().filter(|_| chain.len() > 1).map(|(u, _)| {
                        let mut u = u.clone();
                        u.path = u.path.split('?').next().unwrap_or("/").to_string();
                        u
                    }),
                };
                let login_path = base.join(&recipe.url)?.path;
                if let Some(c) = check.clone().filter(|c| c.path != login_path) {
                    let with = p.send("GET", &c, Some(&jar), None, &[])?;
                    let without = p.send("GET", &c, None, None, &[])?;
                    oracle = with.is_success() && !without.is_success();
                    if !oracle {
                        p.report.skipped.push(format!(
                            "session liveness: GET {} answers {} with the new session and {} without it; pass --check <path> of a page that needs login",
                            c.path, with.status, without.status
                        ));
                    }
                } else {
                    p.report
                        .skipped
                        .push("session liveness: the login did not redirect to a page that needs login; pass --check <path>".into());
                }
                let check_url = check.clone();
                match pre_jar.get(&n) {
                    Some(pre) if pre == post_id => p.finding(Finding::new(
                        Check::LoginIdNotRegenerated,
                        Severity::High,
                        n.clone(),
                        format!("{n}={} before {first_desc}, and the same value after it", redact(pre)),
                    )),
                    Some(pre) => {
                        let pre = pre.to_string();
                        match (oracle, check_url) {
                            (true, Some(c)) => {
                                let (alive, status) = p.alive(&c, &n, &pre)?;
                                if alive {
                                    p.finding(Finding::new(
                                        Check::LoginOldIdAlive,
                                        Severity::High,
                                        n.clone(),
                                        format!(
                                            "after {first_desc}: GET {} with the pre-login {n}={} -> {status}",
                                            c.path,
                                            redact(&pre)
                                        ),
                                    ));
                                } else {
                                    p.report.passed.push(format!(
                                        "fixation: new ID at login; the pre-login ID is refused (GET {} -> {status})",
                                        c.path
                                    ));
                                }
                            }
                            _ => p.report.passed.push(
                                "fixation: a new session ID was issued at login (pre-login ID not verifiable without a check page)".into(),
                            ),
                        }
                    }
                    None => {
                        // Plant an ID of our own and log in with it.
                        let planted = format!("scanprobe{}", random_hex());
                        let mut pj = pre_jar.clone();
                        pj.set(&n, &planted);
                        p.phase = Phase::Login;
                        let planted_chain = p.login(recipe, fields, &mut pj);
                        p.phase = Phase::Other;
                        planted_chain?;
                        let kept = pj.get(&n) == Some(planted.as_str());
                        let verdict = match (oracle, &check) {
                            (true, Some(c)) if kept => Some(p.alive(&c.clone(), &n, &planted)?),
                            _ => None,
                        };
                        match verdict {
                            Some((true, status)) => p.finding(Finding::new(
                                Check::LoginIdNotRegenerated,
                                Severity::High,
                                n.clone(),
                                format!(
                                    "logged in with a client-chosen {n}={}: no new ID was set and GET {} with it -> {status}",
                                    redact(&planted),
                                    check.as_ref().map(|c| c.path.as_str()).unwrap_or("")
                                ),
                            )),
                            _ if !kept => p
                                .report
                                .passed
                                .push(format!("fixation: logging in with a planted {n} cookie issued a fresh ID")),
                            _ => p
                                .report
                                .skipped
                                .push("fixation: a planted ID survived login, but without a check page its state is unknown".into()),
                        }
                        // Log the planted-ID session out again (best effort).
                        if let (Some(lr), Some(lf)) = (&opts.logout, &logout_fields) {
                            let _ = p.logout(lr, lf, &mut pj);
                        }
                    }
                }
                session = Some((jar, post_id));
            }
        }
    } else {
        p.phase = Phase::Other;
        if name.is_none() {
            let anon: Vec<&SetCookie> = p.observed.iter().map(|o| &o.cookie).collect();
            name = pick_session(&anon);
        }
        p.report.skipped.push("fixation, logout and idle timeout: need --login".into());
    }

    // 4. Logout.
    if let (Some(recipe), Some(fields), Some((jar, id)), Some(n)) = (&opts.logout, &logout_fields, &session, &name) {
        let mut jar = jar.clone();
        let chain = p.logout(recipe, fields, &mut jar)?;
        let status = chain.first().map(|(_, r)| r.status).unwrap_or(0);
        match (&check, oracle) {
            (Some(c), true) => {
                let (alive, st) = p.alive(&c.clone(), n, id)?;
                if alive {
                    p.finding(Finding::new(
                        Check::LogoutSessionAlive,
                        Severity::High,
                        n.clone(),
                        format!(
                            "{} -> {status}; then GET {} with the old {n}={} -> {st}",
                            recipe.describe(),
                            c.path,
                            redact(id)
                        ),
                    ));
                } else {
                    p.report
                        .passed
                        .push(format!("logout: the old ID is refused afterwards (GET {} -> {st})", c.path));
                }
            }
            _ => p.report.skipped.push("logout: no check page to test the old ID against".into()),
        }
    } else if opts.logout.is_none() && session.is_some() {
        p.report.skipped.push("logout: needs --logout".into());
    }

    // 5. Identity headers from the client.
    let mut spoof_pages: Vec<Url> = check.iter().cloned().collect();
    spoof_pages.extend(pages.iter().cloned());
    spoof_pages.dedup_by(|a, b| a.to_url_string() == b.to_url_string());
    let mut baselines: Vec<Option<Response>> = Vec::new();
    for page in &spoof_pages {
        baselines.push(p.send("GET", page, None, None, &[]).ok());
    }
    let mut accepted = Vec::new();
    for header in IDENTITY_HEADERS {
        for (page, baseline) in spoof_pages.iter().zip(&baselines) {
            let Some(baseline) = baseline else { continue };
            let Ok(with) = p.send("GET", page, None, None, &[(header, PROBE_IDENTITY)]) else {
                continue;
            };
            let opened = !baseline.is_success() && with.is_success();
            let reflected = with.body.contains(PROBE_IDENTITY) && !baseline.body.contains(PROBE_IDENTITY);
            if opened || reflected {
                let what = if opened {
                    format!(
                        "opened a page that needs login ({} without it, {} with it)",
                        baseline.status, with.status
                    )
                } else {
                    format!("\"{PROBE_IDENTITY}\" appears in the response body")
                };
                p.finding(Finding::new(
                    Check::IdentityHeaderAccepted,
                    if opened { Severity::Critical } else { Severity::High },
                    header,
                    format!("GET {} with {header}: {PROBE_IDENTITY} -> {}: {what}", page.path, with.status),
                ));
                accepted.push(header);
                break;
            }
        }
    }
    let paths: Vec<&str> = spoof_pages.iter().map(|u| u.path.as_str()).collect();
    if accepted.is_empty() {
        p.report.passed.push(format!(
            "identity headers ({}) from the client: not reflected, open nothing ({})",
            IDENTITY_HEADERS.join(", "),
            paths.join(", ")
        ));
    }

    // 6. Fresh session IDs.
    let mut samples: Vec<String> = Vec::new();
    if let Some(n) = name.clone() {
        let anon_page = p
            .observed
            .iter()
            .find(|o| o.phase == Phase::Anonymous && o.cookie.name == n && !o.cookie.is_clearing())
            .map(|o| o.url.clone());
        if let Some(page) = anon_page {
            for _ in 0..opts.samples {
                let r = p.send("GET", &page, None, None, &[])?;
                if let Some(v) = r
                    .all("set-cookie")
                    .into_iter()
                    .filter_map(cookie::parse)
                    .find(|c| c.name == n && !c.is_clearing())
                {
                    samples.push(v.value);
                }
            }
        } else if let (Some(recipe), Some(fields), Some((_, first))) = (&opts.login, &login_fields, &session) {
            samples.push(first.clone());
            for _ in 1..opts.samples {
                let mut jar = Jar::default();
                p.login(recipe, fields, &mut jar)?;
                match jar.get(&n) {
                    Some(v) => samples.push(v.to_string()),
                    None => break,
                }
                if let (Some(lr), Some(lf)) = (&opts.logout, &logout_fields) {
                    let _ = p.logout(lr, lf, &mut jar);
                }
            }
        }
        if samples.len() >= 2 {
            let a = entropy::analyze(&samples, now_unix);
            let fs = entropy::findings(&a, &n, &samples);
            if fs.is_empty() {
                p.report.passed.push(format!(
                    "session IDs: {} fresh samples, ~{} bits estimated, no pattern",
                    a.samples, a.estimated_bits
                ));
            }
            for f in fs {
                p.finding(f);
            }
            p.report.id_analysis = Some(a);
        } else {
            p.report
                .skipped
                .push(format!("session ID quality: only {} fresh ID(s) collected", samples.len()));
        }
    } else if opts.login.is_none() {
        p.finding(Finding::new(
            Check::SessionCookieNotFound,
            Severity::Info,
            "site",
            format!(
                "GET {} set no session cookie; pass --login to test the authenticated session",
                paths.join(", GET ")
            ),
        ));
    }

    // 7. Idle timeout.
    if let Some(wait) = opts.idle_probe {
        match (&opts.login, &login_fields, &name, &check, oracle) {
            (Some(recipe), Some(fields), Some(n), Some(c), true) => {
                let mut jar = Jar::default();
                p.login(recipe, fields, &mut jar)?;
                if let Some(id) = jar.get(n).map(str::to_string) {
                    p.client.sleep(wait);
                    let (alive, st) = p.alive(&c.clone(), n, &id)?;
                    if alive {
                        p.finding(Finding::new(
                            Check::IdleTimeoutNotEnforced,
                            Severity::Medium,
                            n.clone(),
                            format!("a fresh session left idle for {}s: GET {} -> {st}", wait.as_secs(), c.path),
                        ));
                        if let (Some(lr), Some(lf)) = (&opts.logout, &logout_fields) {
                            let _ = p.logout(lr, lf, &mut jar);
                        }
                    } else {
                        p.report.passed.push(format!(
                            "idle timeout: refused after {}s idle (GET {} -> {st})",
                            wait.as_secs(),
                            c.path
                        ));
                    }
                }
            }
            _ => p
                .report
                .skipped
                .push("idle timeout: needs --login and a check page that needs login".into()),
        }
    }

    // 8. After the fact: cookie attributes, leaks, gate-only headers.
    let session_name = name.clone();
    let mut cookie_findings = Vec::new();
    for o in &p.observed {
        let is_session = Some(&o.cookie.name) == session_name.as_ref();
        cookie_findings.extend(cookie::check(&o.cookie, is_session, &o.seen_on));
    }
    p.report.findings.extend(cookie_findings);
    if let Some(n) = &session_name {
        let mut ids: Vec<String> = p
            .observed
            .iter()
            .filter(|o| o.cookie.name == *n && !o.cookie.is_clearing())
            .map(|o| o.cookie.value.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids.retain(|v| v.len() >= 6);
        let (mut in_url, mut in_body) = (None, None);
        for (seen_on, r) in &p.log {
            for id in &ids {
                if in_url.is_none() {
                    if let Some(l) = r.header("location").filter(|l| l.contains(id.as_str())) {
                        in_url = Some(format!("{seen_on} -> {} Location: {}", r.status, scrub(l, id)));
                    }
                }
                if let Some(at) = r.body.find(id.as_str()) {
                    if in_url_context(&r.body, at) {
                        if in_url.is_none() {
                            in_url = Some(format!(
                                "{seen_on} -> {}: a URL in the body: …{}…",
                                r.status,
                                excerpt(&r.body, at, id)
                            ));
                        }
                    } else if in_body.is_none() {
                        in_body = Some(format!("{seen_on} -> {}: …{}…", r.status, excerpt(&r.body, at, id)));
                    }
                }
            }
        }
        if let Some(o) = in_url {
            p.finding(Finding::new(Check::SessionIdInUrl, Severity::High, n.clone(), o));
        }
        if let Some(o) = in_body {
            p.finding(Finding::new(Check::SessionIdInBody, Severity::Medium, n.clone(), o));
        }
    }
    let mut exposed = Vec::new();
    for (seen_on, r) in &p.log {
        for h in GATE_ONLY_HEADERS {
            if r.header(h).is_some() && !exposed.iter().any(|(x, _)| *x == h) {
                exposed.push((h, format!("{seen_on} -> {} carried {h} (value not shown)", r.status)));
            }
        }
    }
    for (h, o) in exposed {
        p.finding(Finding::new(Check::OriginCommandExposed, Severity::High, h, o));
    }

    p.report.session_cookie = session_name;
    p.report.finish();
    Ok(p.report)
}

impl Probe<'_> {
    fn logout(&mut self, recipe: &Recipe, fields: &[(String, String)], jar: &mut Jar) -> Result<Vec<(Url, Response)>, String> {
        let url = self.base.join(&recipe.url)?;
        let body = form_encode(fields);
        self.fetch(&recipe.method, &url, jar, if recipe.method == "GET" { None } else { Some(&body) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::recipe::parse_inline;
    use std::collections::HashMap;

    /// A scripted site: a weak one (sequential IDs, no regeneration) or a good one.
    struct Fake {
        weak: bool,
        next: u64,
        sessions: HashMap<String, bool>,
        slept: Duration,
    }

    impl Fake {
        fn new(weak: bool) -> Self {
            Fake {
                weak,
                next: 0,
                sessions: HashMap::new(),
                slept: Duration::ZERO,
            }
        }

        fn cookie_of(req: &Request) -> Option<String> {
            req.headers
                .iter()
                .find(|(k, _)| k == "Cookie")
                .and_then(|(_, v)| v.split("; ").find_map(|p| p.strip_prefix("sid=").map(str::to_string)))
        }
        fn new_id(&mut self) -> String {
            self.next += 1;
            if self.weak {
                format!("{}", 1000 + self.next)
            } else {
                let mut h = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                (0..32)
                    .map(|_| {
                        h ^= h << 13;
                        h ^= h >> 7;
                        h ^= h << 17;
                        b"0123456789abcdef"[(h % 16) as usize] as char
                    })
                    .collect()
            }
        }
    }

    impl Client for Fake {
        fn send(&mut self, req: &Request) -> Result<Response, String> {
            let url = Url::parse(&req.url)?;
            let path = url.path.split('?').next().unwrap_or("/").to_string();
            let cookie = Fake::cookie_of(req).filter(|c| self.sessions.contains_key(c));
            let mut r = Response {
                status: 200,
                ..Default::default()
            };
            let attrs = if self.weak {
                "; Path=/"
            } else {
                "; Path=/; HttpOnly; Secure; SameSite=Lax"
            };
            match (req.method.as_str(), path.as_str()) {
                ("GET", "/") if self.weak && cookie.is_none() => {
                    let id = self.new_id();
                    self.sessions.insert(id.clone(), false);
                    r.headers.push(("set-cookie".into(), format!("sid={id}{attrs}")));
                }
                ("POST", "/login") => {
                    let ok = req.body.as_deref() == Some("user=alice&password=pw");
                    if !ok {
                        r.status = 401;
                        return Ok(r);
                    }
                    r.status = 303;
                    r.headers.push(("location".into(), "/account".into()));
                    match cookie {
                        Some(id) if self.weak => {
                            self.sessions.insert(id, true);
                        }
                        _ => {
                            let id = self.new_id();
                            self.sessions.insert(id.clone(), true);
                            r.headers.push(("set-cookie".into(), format!("sid={id}{attrs}")));
                        }
                    }
                }
                ("POST", "/logout") => {
                    if let (Some(id), false) = (cookie, self.weak) {
                        self.sessions.remove(&id);
                    }
                    r.status = 303;
                    r.headers.push(("location".into(), "/".into()));
                    r.headers.push(("set-cookie".into(), format!("sid={attrs}; Max-Age=0")));
                }
                ("GET", "/account") => {
                    let authed = cookie.map(|c| self.sessions.get(&c) == Some(&true)).unwrap_or(false);
                    let idle_dead = !self.weak && self.slept > Duration::ZERO;
                    if !authed || idle_dead {
                        r.status = 302;
                        r.headers.push(("location".into(), "/login".into()));
                    } else {
                        r.body = "<p>hello alice</p>".into();
                    }
                    if self.weak && req.headers.iter().any(|(k, _)| k == "X-Forwarded-User") {
                        r.status = 200;
                        r.body = format!("hello {PROBE_IDENTITY}");
                    }
                }
                _ => {}
            }
            Ok(r)
        }
        fn sleep(&mut self, d: Duration) {
            self.slept += d;
        }
    }

    fn env(n: &str) -> Option<String> {
        match n {
            "U" => Some("alice".into()),
            "P" => Some("pw".into()),
            _ => None,
        }
    }

    fn opts() -> Options {
        Options {
            base: "http://127.0.0.1:9/".into(),
            login: Some(parse_inline("POST /login user=$U password=$P").unwrap()),
            logout: Some(parse_inline("POST /logout").unwrap()),
            samples: 5,
            idle_probe: Some(Duration::from_secs(3)),
            ..Default::default()
        }
    }

    fn ids(r: &Report) -> Vec<(&str, &str)> {
        let mut v: Vec<_> = r.findings.iter().map(|f| (f.id, f.subject.as_str())).collect();
        v.sort();
        v
    }

    #[test]
    fn a_weak_site_fails_every_check() {
        let mut fake = Fake::new(true);
        let r = run(&mut fake, &opts(), &env, 0).unwrap();
        assert_eq!(
            ids(&r),
            [
                ("cookie-httponly-missing", "sid"),
                ("cookie-prefix-missing", "sid"),
                ("cookie-samesite-missing", "sid"),
                ("cookie-secure-missing", "sid"),
                ("identity-header-accepted", "X-Forwarded-User"),
                ("idle-timeout-not-enforced", "sid"),
                ("login-id-not-regenerated", "sid"),
                ("logout-session-alive", "sid"),
                ("session-id-low-entropy", "sid"),
                ("session-id-sequential", "sid"),
                ("transport-no-hsts", "http://127.0.0.1:9"),
                ("transport-no-https-redirect", "http://127.0.0.1:9"),
            ]
        );
        assert_eq!(r.grade(), 'F');
        assert_eq!(fake.slept, Duration::from_secs(3));
    }

    #[test]
    fn a_good_site_is_clean_but_for_loopback_transport() {
        let mut fake = Fake::new(false);
        let r = run(&mut fake, &opts(), &env, 0).unwrap();
        // The fake's cookie is `sid`, not `__Host-sid`: the only non-transport finding.
        assert_eq!(
            ids(&r),
            [
                ("cookie-prefix-missing", "sid"),
                ("transport-no-hsts", "http://127.0.0.1:9"),
                ("transport-no-https-redirect", "http://127.0.0.1:9")
            ]
        );
        assert_eq!(r.grade(), 'B');
        assert_eq!(r.session_cookie.as_deref(), Some("sid"));
        assert_eq!(r.id_analysis.as_ref().map(|a| a.samples), Some(5));
        assert!(r.passed.iter().any(|p| p.starts_with("fixation")), "{:?}", r.passed);
        assert!(r.passed.iter().any(|p| p.starts_with("logout")), "{:?}", r.passed);
        assert!(r.passed.iter().any(|p| p.starts_with("idle")), "{:?}", r.passed);
    }

    #[test]
    fn failed_login_and_missing_credentials_are_errors() {
        let mut fake = Fake::new(false);
        let e = run(&mut fake, &opts(), &|_| None, 0).unwrap_err();
        assert!(e.contains("environment variable U"), "{e}");
        let e = run(
            &mut fake,
            &opts(),
            &|n| Some(if n == "U" { "alice".into() } else { "wrong".into() }),
            0,
        )
        .unwrap_err();
        assert!(e.contains("answered 401") && !e.contains("wrong"), "{e}");
    }

    #[test]
    fn leak_contexts() {
        let body = r#"<a href="/account?sid=abcdef123">x</a> Session: abcdef123"#;
        assert!(in_url_context(body, body.find("abcdef123").unwrap()));
        assert!(!in_url_context(body, body.rfind("abcdef123").unwrap()));
        assert_eq!(scrub("/a?sid=abcdef123", "abcdef123"), "/a?sid=<abcdef…[9 chars]>");
        assert!(!excerpt(body, 10, "abcdef123").is_empty());
    }
}
