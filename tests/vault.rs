//! The credential vault: a secret set through the CLI is used by a call; the state file never
//! holds it in plaintext; a wrong master key fails clearly; rotation re-keys every secret.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use support::{Stack, StackOptions};

fn jack_pms(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn new_key() -> String {
    let out = jack_pms(&["vault", "new-key"], &[], None);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

on_both_backends! {
    async fn a_secret_set_with_the_cli_is_used_and_never_stored_in_plaintext(backend: Backend) {
    let state = support::StateDb::new(backend).await;
    let top = "vault:\n  masterKeyEnv: T_MASTER_KEY\n".to_owned();
    let master = new_key();

    // The mock PMS's key, set for a hotel that takes it from the vault.
    let s = Stack::start_with(StackOptions {
        top,
        extra_hotels: "  - id: VAULTED\n    adapter: mock\n    settings: { baseUrl: \"http://127.0.0.1:{mock_port}\", hotelId: DEMO1 }\n    secrets: { apiKey: { vault: apiKey } }\n".into(),
        env: vec![("T_MASTER_KEY".into(), master.clone())],
        state: Some(state.clone()),
        ..StackOptions::default()
    })
    .await;
    let config = s.dir.path().join("config.yaml");
    let config = config.to_str().unwrap().to_string();
    let env = [("T_MASTER_KEY", master.as_str())];

    // Not set yet: calls say what to do.
    let (status, body) = s.get("/v1/hotels/VAULTED/rooms").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("jack-pms vault set VAULTED apiKey"),
        "{body}"
    );

    let key = s.key.clone();
    let out = jack_pms(
        &["vault", "set", "--config", &config, "VAULTED", "apiKey"],
        &env,
        Some(&format!("{key}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = jack_pms(
        &["vault", "list", "--json", "--config", &config],
        &env,
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(
        list.contains("\"name\": \"apiKey\"") && !list.contains(&key),
        "{list}"
    );

    // The running host picks the new secret up (its vault refreshes every 5 s) and uses it.
    let started = std::time::Instant::now();
    loop {
        let (status, body) = s.get("/v1/hotels/VAULTED/rooms").await;
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the vault's secret was never used: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }

    // The state database (its files, its WAL) never contains the value.
    let files = s.state_files().await;
    assert!(!files.is_empty(), "no state files found");
    let k = s.key.as_bytes();
    for (path, bytes) in &files {
        assert!(
            !bytes.windows(k.len()).any(|w| w == k),
            "{path} holds a secret in plaintext"
        );
    }

    // A wrong master key fails clearly, never with garbage.
    let wrong = new_key();
    let out = jack_pms(
        &["vault", "list", "--config", &config],
        &[("T_MASTER_KEY", wrong.as_str())],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the master key does not match this vault"),
        "{err}"
    );

    // Rotation: afterwards only the new key opens the vault, and it reads every secret.
    let rotated = new_key();
    let out = jack_pms(
        &[
            "vault",
            "rotate-master-key",
            "--config",
            &config,
            "--new-key-env",
            "T_NEW_KEY",
        ],
        &[
            ("T_MASTER_KEY", master.as_str()),
            ("T_NEW_KEY", rotated.as_str()),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = jack_pms(&["vault", "list", "--config", &config], &env, None);
    assert!(!out.status.success(), "the old key still opens the vault");
    let out = jack_pms(
        &["vault", "list", "--config", &config],
        &[("T_MASTER_KEY", rotated.as_str())],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    }
}
