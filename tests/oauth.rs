//! Host-owned OAuth 2 end to end: an adapter using `oauth2-client-credentials` against the mock
//! PMS's OHIP-style token endpoint, over real HTTP.

mod support;

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Stack, StackOptions};

struct OAuthStack {
    s: Stack,
    app_key: String,
}

async fn start(lifetime_s: u64) -> OAuthStack {
    let (id, secret, app_key) = (
        support::random_key(),
        support::random_key(),
        support::random_key(),
    );
    let s = Stack::start_with(StackOptions {
        extra_hotels: "  - id: OHIP\n    adapter: hostile_oauth\n    settings: { baseUrl: \"http://127.0.0.1:{mock_port}\" }\n    secrets:\n      clientId: { env: T_CLIENT_ID }\n      clientSecret: { env: T_CLIENT_SECRET }\n      appKey: { env: T_APP_KEY }\n".into(),
        env: vec![
            ("T_CLIENT_ID".into(), id.clone()),
            ("T_CLIENT_SECRET".into(), secret.clone()),
            ("T_APP_KEY".into(), app_key.clone()),
        ],
        ..StackOptions::default()
    })
    .await;
    let r = s
        .http
        .put(s.mock_url("/admin/oauth"))
        .json(&json!({"clientId": id, "clientSecret": secret, "appKey": app_key, "tokenLifetimeSeconds": lifetime_s}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    OAuthStack { s, app_key }
}

/// Reads DEMO1's rooms through the OAuth adapter; `tag` keeps the read out of the cache.
async fn oauth_read(s: &Stack, tag: &str) -> (u16, Value) {
    s.get(&format!(
        "/v1/hotels/OHIP/reservations/oauth:%2Fapi%2Fv1%2Fhotels%2FDEMO1%2Frooms%3Ftag%3D{tag}"
    ))
    .await
}

fn upstream_status(body: &Value) -> &str {
    body["data"]["notes"][0].as_str().unwrap_or_default()
}

#[tokio::test]
async fn one_token_for_many_calls_never_seen_by_the_guest() {
    let OAuthStack { s, app_key } = start(3600).await;
    let tags: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    for (status, body) in join_all(tags.iter().map(|t| oauth_read(&s, t))).await {
        assert_eq!((status, upstream_status(&body)), (200, "200"), "{body}");
    }
    let stats = s.mock_stats().await;
    assert_eq!(stats["tokensIssued"], 1, "{stats}");

    // The PMS echoes the headers: the guest sees neither the token nor the app key.
    let (status, body) = s.get("/v1/hotels/OHIP/reservations/oauth-echo").await;
    assert_eq!(status, 200, "{body}");
    let echoed = body["data"]["notes"][1].as_str().unwrap();
    assert!(echoed.contains("Bearer [REDACTED]"), "{echoed}");
    assert!(!echoed.contains(&app_key), "{echoed}");

    // Health shows the token's validity, never the token.
    let (_, health) = s.get("/v1/hotels/OHIP/health").await;
    assert!(health["tokenValidUntil"].as_str().is_some(), "{health}");
}

#[tokio::test]
async fn tokens_are_refreshed_before_expiry_and_once_on_a_401() {
    let OAuthStack { s, .. } = start(3).await;
    let (status, body) = oauth_read(&s, "a").await;
    assert_eq!((status, upstream_status(&body)), (200, "200"), "{body}");
    // Refreshed at 5/6 of the 3 s lifetime: before the PMS would refuse it.
    tokio::time::sleep(Duration::from_millis(2700)).await;
    let (status, body) = oauth_read(&s, "b").await;
    assert_eq!((status, upstream_status(&body)), (200, "200"), "{body}");
    let stats = s.mock_stats().await;
    assert_eq!(stats["tokensIssued"], 2, "{stats}");
    assert_eq!(
        stats["rejected"]["unauthorized"], 0,
        "a token expired in use: {stats}"
    );

    // The PMS revokes every token: one 401, one refresh, one retry, success.
    let r = s
        .http
        .post(s.mock_url("/admin/oauth/revoke-all"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, body) = oauth_read(&s, "c").await;
    assert_eq!((status, upstream_status(&body)), (200, "200"), "{body}");
    let stats = s.mock_stats().await;
    assert_eq!(stats["tokensIssued"], 3, "{stats}");
    assert_eq!(stats["rejected"]["unauthorized"], 1, "{stats}");
}

#[tokio::test]
async fn refused_client_credentials_are_reported_clearly() {
    let OAuthStack { s, .. } = start(3600).await;
    let r = s
        .http
        .put(s.mock_url("/admin/oauth"))
        .json(&json!({"clientId": "other", "clientSecret": "other-secret", "appKey": "other-key"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (status, body) = oauth_read(&s, "x").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("token endpoint /oauth/v1/tokens answered 401"),
        "{body}"
    );
}
