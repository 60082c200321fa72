//! The conformance suite (`jack-pms adapter test`) run the way a partner runs it: the real CLI on
//! real components, against a real PMS over loopback or against recorded exchanges. The reference
//! adapter must conform; a deliberately broken one must fail with each mistake named and a fix.

mod support;

use serde_json::Value;
use std::process::Command;
use support::pms::{ExternalPms, example_seed};
use support::{adapters_dir, root};

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check `{id}` in {report:#}"))
}

fn verdict(report: &Value, id: &str) -> String {
    check(report, id)["verdict"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_adapter_conforms_against_the_mock_pms() {
    let adapters = adapters_dir();
    let pms = ExternalPms::start(example_seed()).await;
    let (code, report) = support::adapter_test(
        vec![
            adapters.join("mock.wasm").display().to_string(),
            "--manifest".into(),
            root().join("adapters/mock/mock.toml").display().to_string(),
            "--against".into(),
            pms.base.clone(),
            "--unlimited".into(),
        ],
        vec![("JACK_MOCK_PMS_KEY".into(), pms.key.clone())],
    )
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
    for id in [
        "manifest",
        "component",
        "describe",
        "operations.get-arrivals",
        "operations.post-charge",
        "operations.get-reservation.missing",
        "operations.find-write.note",
        "operations.find-write.absent",
        "credentials",
        "statuses.404.get-reservation",
        "statuses.408.get-reservation",
        "statuses.429.get-reservation",
        "statuses.503.get-reservation",
        "malformed.get-arrivals",
        "malformed.post-charge",
        "pagination.get-in-house-guests",
    ] {
        assert_eq!(verdict(&report, id), "pass", "{id}: {report:#}");
    }
}

/// The mistakes of `tests/adapters/broken`, each with its fix (the fourth, cancelled arrivals,
/// needs the mock PMS: see [`a_broken_adapter_fails_with_each_mistake_named`]).
fn assert_mistakes_named(report: &Value) {
    let failed = |id: &str, fix_mentions: &str| {
        let c = check(report, id);
        assert_eq!(c["verdict"], "fail", "{id} should fail: {report:#}");
        let fix = c["fix"].as_str().unwrap_or_default();
        assert!(
            fix.contains(fix_mentions),
            "{id}: fix `{fix}` should mention `{fix_mentions}`"
        );
    };
    failed("statuses.429.get-reservation", "429 → rate-limited");
    failed("malformed.get-reservation", "never unwrap");
    assert!(
        check(report, "malformed.get-reservation")["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("trapped"),
        "{report:#}"
    );
    failed("operations.get-guest", "allowed_hosts");
    failed("credentials", "unauthorized");
    // What it does right still passes, and undeclared operations answer unsupported.
    assert_eq!(verdict(report, "operations.get-reservation"), "pass");
    assert_eq!(verdict(report, "statuses.404.get-reservation"), "pass");
    assert_eq!(verdict(report, "unsupported.post-charge"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_adapter_fails_with_each_mistake_named() {
    let adapters = adapters_dir();
    let pms = ExternalPms::start(example_seed()).await;
    let (code, report) = support::adapter_test(
        vec![
            adapters.join("broken.wasm").display().to_string(),
            "--manifest".into(),
            root()
                .join("tests/adapters/broken/broken.toml")
                .display()
                .to_string(),
            "--against".into(),
            pms.base.clone(),
            "--unlimited".into(),
            "--profile".into(),
            root()
                .join("adapters/mock/conformance.toml")
                .display()
                .to_string(),
        ],
        vec![("JACK_MOCK_PMS_KEY".into(), pms.key.clone())],
    )
    .await;
    assert_eq!(code, 1, "{report:#}");
    assert_mistakes_named(&report);
    // The mock PMS's seed has a cancelled stay arriving today (CONF1011): listing it breaks
    // the contract's rule for arrivals, and the suite says so.
    let c = check(&report, "operations.get-arrivals.happening");
    assert_eq!(c["verdict"], "fail", "{report:#}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Cancelled")
            && c["fix"].as_str().unwrap_or_default().contains("happening"),
        "{c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_exchanges_stand_in_for_the_pms() {
    let adapters = adapters_dir();
    let (code, report) = support::adapter_test(
        vec![
            adapters.join("broken.wasm").display().to_string(),
            "--manifest".into(),
            root()
                .join("tests/adapters/broken/broken.toml")
                .display()
                .to_string(),
            "--fixtures".into(),
            root()
                .join("tests/fixtures/broken-conformance")
                .display()
                .to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 1, "{report:#}");
    assert!(
        check(&report, "operations.get-reservation")["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("reservation CONF1001"),
        "{report:#}"
    );
    assert_mistakes_named(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_the_host_cannot_load_is_the_first_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("bad.toml");
    std::fs::write(
        &manifest,
        "name = \"bad\"\nvendor = \"x\"\nversion = \"1.0.0\"\nwit = \"jack:pms@9.0.0\"\n[auth]\nscheme = \"none\"\n",
    )
    .expect("write manifest");
    let (code, report) = support::adapter_test(
        vec![
            adapters_dir().join("mock.wasm").display().to_string(),
            "--manifest".into(),
            manifest.display().to_string(),
            "--fixtures".into(),
            root()
                .join("tests/fixtures/broken-conformance")
                .display()
                .to_string(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 1, "{report:#}");
    let c = check(&report, "manifest");
    assert_eq!(c["verdict"], "fail");
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("jack:pms@9.0.0"),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_builds_passes_its_tests_and_conforms() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().join("acme");
    let out = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
        .args(["adapter", "new", "acme", "--dir"])
        .arg(&dir)
        .output()
        .expect("run adapter new");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Outside the jack-pms workspace, as a partner has it: its own tests, then the component.
    let build_dir = dir.clone();
    tokio::task::spawn_blocking(move || {
        support::cargo_in(&build_dir, &["test", "--quiet"]);
        support::cargo_in(
            &build_dir,
            &["build", "--quiet", "--release", "--target", "wasm32-wasip2"],
        );
    })
    .await
    .expect("join");
    let wasm = root().join("target/template/wasm32-wasip2/release/acme.wasm");
    let pms = ExternalPms::start(example_seed()).await;
    let (code, report) = support::adapter_test(
        vec![
            wasm.display().to_string(),
            "--manifest".into(),
            dir.join("acme.toml").display().to_string(),
            "--against".into(),
            pms.base.clone(),
            "--unlimited".into(),
        ],
        vec![("JACK_MOCK_PMS_KEY".into(), pms.key.clone())],
    )
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(
        verdict(&report, "operations.find-write.note"),
        "pass",
        "{report:#}"
    );
    assert_eq!(
        verdict(&report, "unsupported.post-charge"),
        "pass",
        "{report:#}"
    );
}
