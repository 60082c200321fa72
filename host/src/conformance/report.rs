//! The conformance report: one line per check, with what to fix when it failed; as text for a
//! person or as JSON for CI.

use serde::Serialize;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It held.
    Pass,
    /// It did not hold.
    Fail,
    /// It could not run (an input the profile lacks, an operation not declared).
    Skip,
}

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable id (`statuses.429.get-reservation`).
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What happened.
    pub detail: String,
    /// What to change, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Adapter name (the manifest's).
    pub adapter: String,
    /// Vendor key.
    pub vendor: String,
    /// WIT package the component targets.
    pub wit: String,
    /// `against <url>` or `fixtures <dir>`.
    pub source: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Checks skipped.
    pub skipped: usize,
}

impl Report {
    /// An empty report.
    pub fn new(adapter: &str, vendor: &str, wit: &str, source: String) -> Report {
        Report {
            adapter: adapter.into(),
            vendor: vendor.into(),
            wit: wit.into(),
            source,
            checks: Vec::new(),
            passed: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// Records a pass.
    pub fn pass(&mut self, id: impl Into<String>, detail: impl Into<String>) {
        self.push(id.into(), Verdict::Pass, detail.into(), None);
    }

    /// Records a failure and its fix.
    pub fn fail(
        &mut self,
        id: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(id.into(), Verdict::Fail, detail.into(), Some(fix.into()));
    }

    /// Records a skip and why.
    pub fn skip(&mut self, id: impl Into<String>, why: impl Into<String>) {
        self.push(id.into(), Verdict::Skip, why.into(), None);
    }

    fn push(&mut self, id: String, verdict: Verdict, detail: String, fix: Option<String>) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Skip => self.skipped += 1,
        }
        self.checks.push(Check {
            id,
            verdict,
            detail,
            fix,
        });
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed == 0
    }

    /// The report as text, failures with their fix.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "conformance of adapter `{}` (vendor {}, {}) {}\n\n",
            self.adapter, self.vendor, self.wit, self.source
        );
        for c in &self.checks {
            let mark = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Skip => "SKIP",
            };
            out.push_str(&format!("{mark}  {}: {}\n", c.id, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("      fix: {fix}\n"));
            }
        }
        out.push_str(&format!(
            "\n{} passed, {} failed, {} skipped: {}\n",
            self.passed,
            self.failed,
            self.skipped,
            if self.ok() {
                "CONFORMS"
            } else {
                "DOES NOT CONFORM"
            }
        ));
        out
    }
}
