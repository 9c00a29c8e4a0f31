//! The report: findings sorted by severity, an overall grade, text and JSON renderings.
//!
//! Grade: A = nothing above info; B = low findings only; C = one medium;
//! D = two or more medium, or one high; F = any critical, or two or more high.

use super::entropy::IdAnalysis;
use super::finding::{Finding, Severity};
use serde_json::{json, Value};

/// Everything a scan found, checked, and could not check.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The base URL scanned.
    pub target: String,
    /// The session cookie's name, when one was found.
    pub session_cookie: Option<String>,
    /// The fresh-ID analysis, when enough IDs were collected.
    pub id_analysis: Option<IdAnalysis>,
    /// The findings, most severe first once finished.
    pub findings: Vec<Finding>,
    /// Checks that could not run, and why.
    pub skipped: Vec<String>,
    /// What was checked and passed, in a few words each.
    pub passed: Vec<String>,
    /// Requests sent.
    pub requests: usize,
}

/// Findings of severity `s`.
pub fn count(findings: &[Finding], s: Severity) -> usize {
    findings.iter().filter(|f| f.severity == s).count()
}

/// A to F from the counts of findings by severity (see `Severity`).
pub fn grade(findings: &[Finding]) -> char {
    let c = |s| count(findings, s);
    if c(Severity::Critical) > 0 || c(Severity::High) >= 2 {
        'F'
    } else if c(Severity::High) == 1 || c(Severity::Medium) >= 2 {
        'D'
    } else if c(Severity::Medium) == 1 {
        'C'
    } else if c(Severity::Low) > 0 {
        'B'
    } else {
        'A'
    }
}

impl Report {
    /// Sorts findings (most severe first, then by id and subject) and drops exact repeats.
    pub fn finish(&mut self) {
        self.findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(b.id)).then(a.subject.cmp(&b.subject)));
        self.findings.dedup_by(|a, b| a.id == b.id && a.subject == b.subject);
    }

    /// This report's grade.
    pub fn grade(&self) -> char {
        grade(&self.findings)
    }

    /// Is there a finding at or above `threshold`?
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL.iter().map(|s| (*s, count(&self.findings, *s))).collect()
    }

    /// The report as JSON (`--json`).
    pub fn to_json(&self) -> Value {
        let counts: serde_json::Map<String, Value> = self.counts().into_iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect();
        json!({
            "tool": "sessiongate-scan",
            "version": env!("CARGO_PKG_VERSION"),
            "target": self.target,
            "grade": self.grade().to_string(),
            "counts": counts,
            "session_cookie": self.session_cookie,
            "session_id_analysis": self.id_analysis,
            "findings": self.findings,
            "passed": self.passed,
            "skipped": self.skipped,
            "requests": self.requests,
        })
    }

    /// The report for a terminal: header, findings with their fix, then what passed
    /// and what could not be checked.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("sessiongate-scan report for {}\n", self.target));
        s.push_str(&format!("Grade: {}  ({})\n", self.grade(), self.counts_text()));
        match &self.session_cookie {
            Some(c) => s.push_str(&format!("Session cookie: {c}\n")),
            None => s.push_str("Session cookie: none observed\n"),
        }
        if let Some(a) = &self.id_analysis {
            s.push_str(&id_analysis_text(a));
        }
        s.push_str(&format!("Requests sent: {}\n", self.requests));
        for f in &self.findings {
            s.push_str(&finding_text(f));
        }
        if !self.passed.is_empty() {
            s.push_str("\nPassed:\n");
            for p in &self.passed {
                s.push_str(&format!("  ok  {p}\n"));
            }
        }
        if !self.skipped.is_empty() {
            s.push_str("\nNot checked:\n");
            for p in &self.skipped {
                s.push_str(&format!("  --  {p}\n"));
            }
        }
        s
    }

    /// "2 high, 1 low", or "no findings".
    fn counts_text(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(sev, n)| format!("{n} {sev}"))
            .collect();
        if counts.is_empty() {
            "no findings".to_string()
        } else {
            counts.join(", ")
        }
    }
}

/// One line on the fresh session IDs.
fn id_analysis_text(a: &IdAnalysis) -> String {
    format!(
        "Session IDs: {} samples, {} distinct, length {}{}, {} alphabet, constant prefix {} chars, ~{} bits estimated{}{}\n",
        a.samples,
        a.distinct,
        a.min_len,
        if a.max_len != a.min_len {
            format!("-{}", a.max_len)
        } else {
            String::new()
        },
        a.alphabet,
        a.constant_prefix,
        a.estimated_bits,
        a.sequential.as_deref().map(|x| format!(", sequential: {x}")).unwrap_or_default(),
        a.time_based.as_deref().map(|x| format!(", time-based: {x}")).unwrap_or_default(),
    )
}

/// A finding: severity, id, title and subject, then what was observed, why it
/// matters and how to fix it.
fn finding_text(f: &Finding) -> String {
    let mut s = format!(
        "\n[{}] {}: {} ({})\n",
        f.severity.as_str().to_ascii_uppercase(),
        f.id,
        f.title,
        f.subject
    );
    s.push_str(&format!("  observed: {}\n", f.observed));
    s.push_str(&format!("  why:      {} ({})\n", f.why, f.asvs));
    s.push_str(&format!("  fix:      {}\n", f.fix));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::finding::Check;
    use proptest::prelude::*;

    fn f(sev: Severity) -> Finding {
        Finding::new(Check::CookieSecureMissing, sev, "sid", "x")
    }

    #[test]
    fn grades() {
        use Severity::*;
        assert_eq!(grade(&[]), 'A');
        assert_eq!(grade(&[f(Info), f(Info)]), 'A');
        assert_eq!(grade(&[f(Low)]), 'B');
        assert_eq!(grade(&[f(Medium), f(Low)]), 'C');
        assert_eq!(grade(&[f(Medium), f(Medium)]), 'D');
        assert_eq!(grade(&[f(High)]), 'D');
        assert_eq!(grade(&[f(High), f(High)]), 'F');
        assert_eq!(grade(&[f(Critical)]), 'F');
    }

    #[test]
    fn sorted_deduplicated_and_rendered() {
        let mut r = Report {
            target: "http://x.test/".into(),
            ..Default::default()
        };
        r.findings = vec![
            Finding::new(Check::TransportNoHsts, Severity::Info, "http://x.test", "no header"),
            Finding::new(Check::CookieHttpOnlyMissing, Severity::High, "sid", "Set-Cookie: sid=1"),
            Finding::new(Check::CookieHttpOnlyMissing, Severity::High, "sid", "Set-Cookie: sid=2"),
        ];
        r.finish();
        assert_eq!(r.findings.len(), 2);
        assert_eq!(r.findings[0].id, "cookie-httponly-missing");
        assert!(r.fails(Severity::High) && !r.fails(Severity::Critical));
        let text = r.to_text();
        assert!(text.contains("Grade: D  (1 high, 1 info)"), "{text}");
        assert!(text.contains("[HIGH] cookie-httponly-missing"));
        let j = r.to_json();
        assert_eq!(j["grade"], "D");
        assert_eq!(j["findings"][0]["asvs"], "ASVS 5.0 V3.3.4");
        assert_eq!(j["counts"]["high"], 1);
    }

    proptest! {
        #[test]
        fn grade_is_monotonic(a in 0usize..3, b in 0usize..3, c in 0usize..3, d in 0usize..3) {
            let mut v: Vec<Finding> = Vec::new();
            v.extend((0..a).map(|_| f(Severity::Low)));
            v.extend((0..b).map(|_| f(Severity::Medium)));
            v.extend((0..c).map(|_| f(Severity::High)));
            v.extend((0..d).map(|_| f(Severity::Critical)));
            let g = grade(&v);
            v.push(f(Severity::High));
            // Adding a finding never improves the grade (letters later in the alphabet are worse).
            prop_assert!(grade(&v) >= g);
        }
    }
}
