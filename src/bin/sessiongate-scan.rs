//! sessiongate-scan: checks a live site's session security from the command line.
//! The analysis lives in `sessiongate::scan`; this file is arguments, HTTP (ureq) and output.

use sessiongate::core::duration::parse_duration;
use sessiongate::scan::finding::Severity;
use sessiongate::scan::http::{Client, Request, Response};
use sessiongate::scan::probe::{self, Options};
use sessiongate::scan::recipe::{self, Recipe};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: sessiongate-scan <base-url> [options]

Probes a live site and reports how well it protects its sessions (OWASP ASVS 5.0 V7 / V3.3).

options:
  --login <recipe>       log in: 'METHOD /path field=$ENV_VAR ...' or @file.json
                         credentials come from environment variables, never from the command line:
                           SCAN_USER=alice SCAN_PASSWORD=... sessiongate-scan https://example.com \\
                             --login 'POST /login user=$SCAN_USER password=$SCAN_PASSWORD'
  --logout <recipe>      log out, same syntax (e.g. 'POST /logout')
  --check <path>         a page that needs login (default: where the login redirects to)
  --cookie <name>        the session cookie's name (default: guessed from what the site sets)
  --path <path>          another page to visit (repeatable)
  --samples <n>          fresh session IDs to collect (default 20; via logins if the site only
                         issues IDs at login; each such session is logged out again with --logout)
  --idle-probe <dur>     wait this long (e.g. 90s, 31m) with a fresh session, then check it is refused
  --timeout <secs>       per-request timeout (default 20)
  --json                 print the report as JSON
  --fail-on <severity>   exit 1 if a finding is at or above: info, low, medium, high, critical
  -h, --help             this text

exit status: 0 ok, 1 findings at or above --fail-on, 2 usage error or the scan could not run";

struct Args {
    opts: Options,
    json: bool,
    fail_on: Option<Severity>,
    timeout: Duration,
}

fn read_recipe(v: &str) -> Result<Recipe, String> {
    match v.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            recipe::parse_json(&text).map_err(|e| format!("{path}: {e}"))
        }
        None => recipe::parse_inline(v),
    }
}

fn parse_args(argv: &[String]) -> Result<Option<Args>, String> {
    let mut opts = Options::default();
    let mut base = None;
    let mut json = false;
    let mut fail_on = None;
    let mut timeout = Duration::from_secs(20);
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--json" => json = true,
            "--login" => opts.login = Some(read_recipe(&value("--login")?).map_err(|e| format!("--login: {e}"))?),
            "--logout" => opts.logout = Some(read_recipe(&value("--logout")?).map_err(|e| format!("--logout: {e}"))?),
            "--check" => opts.check = Some(value("--check")?),
            "--cookie" => opts.cookie = Some(value("--cookie")?),
            "--path" => opts.paths.push(value("--path")?),
            "--samples" => {
                let v = value("--samples")?;
                opts.samples = v
                    .parse()
                    .ok()
                    .filter(|n| (2..=500).contains(n))
                    .ok_or(format!("--samples: {v:?} is not a number from 2 to 500"))?;
            }
            "--idle-probe" => {
                let v = value("--idle-probe")?;
                opts.idle_probe = Some(Duration::from_secs(parse_duration(&v).map_err(|e| format!("--idle-probe: {e}"))?));
            }
            "--timeout" => {
                let v = value("--timeout")?;
                timeout = Duration::from_secs(
                    v.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(format!("--timeout: {v:?} is not a positive number of seconds"))?,
                );
            }
            "--fail-on" => fail_on = Some(value("--fail-on")?.parse::<Severity>().map_err(|e| format!("--fail-on: {e}"))?),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => {
                if base.replace(s.to_string()).is_some() {
                    return Err(format!("more than one base URL ({s})"));
                }
            }
        }
    }
    opts.base = base.ok_or("missing <base-url>")?;
    Ok(Some(Args {
        opts,
        json,
        fail_on,
        timeout,
    }))
}

/// ureq with redirects off (every hop's Set-Cookie is seen), no cookie jar, no status errors.
struct Ureq {
    agent: ureq::Agent,
    timeout: Duration,
}

impl Ureq {
    fn agent(timeout: Duration) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("sessiongate-scan/", env!("CARGO_PKG_VERSION")))
            .build();
        ureq::Agent::new_with_config(config)
    }

    fn new(timeout: Duration) -> Self {
        Ureq {
            agent: Ureq::agent(timeout),
            timeout,
        }
    }

    fn send_once(&mut self, req: &Request) -> Result<Response, String> {
        let mut b = ureq::http::Request::builder().method(req.method.as_str()).uri(req.url.as_str());
        for (k, v) in &req.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let result = match &req.body {
            Some(body) => b
                .body(body.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string())),
            None => b
                .body(())
                .map_err(|e| e.to_string())
                .and_then(|r| self.agent.run(r).map_err(|e| e.to_string())),
        };
        let mut resp = result?;
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(4 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Ok(Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

impl Client for Ureq {
    fn send(&mut self, req: &Request) -> Result<Response, String> {
        match self.send_once(req) {
            // A pooled keep-alive connection that the server closed meanwhile: once more on
            // a fresh connection, for requests that are safe to repeat.
            Err(e) if req.method == "GET" && e.starts_with("io:") => {
                self.agent = Ureq::agent(self.timeout);
                self.send_once(req)
            }
            other => other,
        }
    }

    fn sleep(&mut self, d: Duration) {
        eprintln!("sessiongate-scan: idle probe, waiting {}s", d.as_secs());
        std::thread::sleep(d);
        // Idle keep-alive connections are likely closed by now.
        self.agent = Ureq::agent(self.timeout);
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sessiongate-scan: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut client = Ureq::new(args.timeout);
    let env = |name: &str| std::env::var(name).ok();
    let report = match probe::run(&mut client, &args.opts, &env, now) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sessiongate-scan: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report.to_json()) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("sessiongate-scan: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", report.to_text());
    }
    match args.fail_on {
        Some(t) if report.fails(t) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
