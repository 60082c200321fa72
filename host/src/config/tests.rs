use super::*;

const TOKEN: &str = "  tokens:\n    - name: jack\n      sha256: 0000000000000000000000000000000000000000000000000000000000000000\n";

fn load(yaml: &str) -> Result<Config, ConfigError> {
    Config::from_yaml(yaml, Path::new("/etc/jack/test.yaml"))
}

/// The seed document's block, verbatim, comments included.
const SEED_PMS_BLOCK: &str = r#"
pms:
  vendor: opera_cloud  # or mews, cloudbeds

  sync:
    arrivals:
      enabled: true
      schedule: "*/5 * * * *"  # Every 5 minutes
      lookAheadDays: 1

    departures:
      enabled: true
      schedule: "*/5 * * * *"
      lookAheadDays: 1

    roomStatus:
      enabled: true
      schedule: "*/5 * * * *"

    guestProfiles:
      mode: on_demand  # Don't bulk sync, fetch as needed

  cache:
    guestTTL: 3600        # 1 hour
    reservationTTL: 300   # 5 minutes
    roomStatusTTL: 60     # 1 minute

  retry:
    maxAttempts: 3
    backoff: exponential
    initialDelay: 1000
    maxDelay: 30000       # Cap at 30 seconds
    jitter: true          # Add randomness to prevent thundering herd
"#;

#[test]
fn the_seed_pms_block_loads_as_written() {
    let yaml = format!("{SEED_PMS_BLOCK}server:\n{TOKEN}hotels:\n  - id: H1\n");
    let config = load(&yaml).unwrap();
    let hotel = &config.hotels[0];
    assert_eq!(hotel.adapter, "opera");
    assert_eq!(hotel.pms.cache.reservation, Duration::from_secs(300));
    assert_eq!(hotel.pms.retry.max_attempts, 3);
    assert_eq!(hotel.pms.retry.max_delay, Duration::from_secs(30));
    assert_eq!(hotel.pms.sync.arrivals.look_ahead_days, 1);
    assert!(hotel.pms.sync.room_status.enabled);
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let yaml =
        format!("server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n    adaptor: mock\n");
    let err = load(&yaml).unwrap_err().to_string();
    assert!(err.contains("adaptor") && err.contains("line 8"), "{err}");
}

#[test]
fn wrong_types_name_the_line() {
    let yaml = format!("pms:\n  cache:\n    guestTTL: soon\nserver:\n{TOKEN}");
    let err = load(&yaml).unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn semantic_errors_name_key_and_line() {
    let yaml = format!("server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n    sha256: abc\n");
    let err = load(&yaml).unwrap_err().to_string();
    assert!(
        err.contains("hotels[0].sha256") && err.contains("line 8"),
        "{err}"
    );
}

#[test]
fn hotel_overrides_lay_over_the_defaults() {
    let yaml = format!(
        "{SEED_PMS_BLOCK}server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n    pms:\n      cache:\n        guestTTL: 10\n"
    );
    let config = load(&yaml).unwrap();
    assert_eq!(config.hotels[0].pms.cache.guest, Duration::from_secs(10));
    assert_eq!(
        config.hotels[0].pms.cache.reservation,
        Duration::from_secs(300)
    );
}

#[test]
fn duplicate_hotels_and_missing_tokens_are_refused() {
    let yaml = format!(
        "server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n  - id: H1\n    adapter: mock\n"
    );
    assert!(
        load(&yaml)
            .unwrap_err()
            .to_string()
            .contains("listed twice")
    );
    assert!(
        load("hotels: []\n")
            .unwrap_err()
            .to_string()
            .contains("no API token")
    );
}

#[test]
fn paths_are_relative_to_the_config_file() {
    let yaml = format!("server:\n{TOKEN}adapters:\n  dir: ../target/adapters\n");
    let config = load(&yaml).unwrap();
    assert_eq!(
        config.adapters.dir,
        Path::new("/etc/jack/../target/adapters")
    );
}

#[test]
fn the_example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mock.yaml");
    let config = Config::load(&path).unwrap();
    assert!(!config.hotels.is_empty());
    assert!(config.mock_pms.is_some());
}

#[test]
fn mock_pms_faults_load_from_config_and_are_checked() {
    let mock = "mockPms:\n  enabled: true\n  seed: seed.json\n  apiKey: { env: K }\n  faults:\n";
    let yaml = format!(
        "server:\n{TOKEN}{mock}    latencyMs: 250\n    rateLimited: {{ count: 2, retryAfterSeconds: 3 }}\n"
    );
    let config = load(&yaml).unwrap();
    let faults = &config.mock_pms.unwrap().faults;
    assert_eq!(faults.latency_ms, 250);
    assert_eq!(faults.rate_limited.count, 2);
    let yaml = format!("server:\n{TOKEN}{mock}    errorRate: 2.5\n");
    let err = load(&yaml).unwrap_err().to_string();
    assert!(err.contains("mockPms.faults"), "{err}");
    let yaml = format!("server:\n{TOKEN}{mock}    lag: 1\n");
    let err = load(&yaml).unwrap_err().to_string();
    assert!(err.contains("lag"), "{err}");
}

#[test]
fn trusted_cas_and_pinned_addresses_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let load_in = |egress: &str| {
        Config::from_yaml(
            &format!("server:\n{TOKEN}egress:\n{egress}"),
            &dir.path().join("c.yaml"),
        )
    };
    let err = load_in("  trustedCaFiles: [missing.pem]\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("egress.trustedCaFiles[0]") && err.contains("missing.pem"),
        "{err}"
    );
    let err = load_in("  trustedCaFiles: [not.pem]\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
    let err = load_in("  resolve: { api.example.com: somewhere }\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("egress.resolve.api.example.com") && err.contains("address:port"),
        "{err}"
    );
    let config = load_in("  resolve: { API.Example.com: \"127.0.0.1:8443\" }\n").unwrap();
    assert_eq!(
        config.egress.resolve.get("api.example.com"),
        Some(&"127.0.0.1:8443".parse().unwrap())
    );
}

#[test]
fn time_zones_resolve_per_hotel_and_bad_ones_name_key_and_line() {
    let yaml = format!(
        "pms:\n  vendor: mock\n  timeZone: Europe/Prague\nserver:\n{TOKEN}hotels:\n  - id: H1\n  - id: H2\n    timeZone: Asia/Tokyo\n  - id: H3\n    pms:\n      timeZone: America/Los_Angeles\n"
    );
    let config = load(&yaml).unwrap();
    let zones: Vec<_> = config
        .hotels
        .iter()
        .map(|h| h.time_zone.as_ref().map(|z| z.name().to_owned()))
        .collect();
    assert_eq!(
        zones,
        [
            Some("Europe/Prague".to_owned()),
            Some("Asia/Tokyo".to_owned()),
            Some("America/Los_Angeles".to_owned())
        ]
    );
    let none = load(&format!(
        "server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n"
    ))
    .unwrap();
    assert!(none.hotels[0].time_zone.is_none());

    for (yaml, key, line) in [
        (
            format!(
                "server:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n    timeZone: Asia/Tokio\n"
            ),
            "hotels[0].timeZone",
            8,
        ),
        (
            format!(
                "pms:\n  timeZone: \"+09:00\"\nserver:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n"
            ),
            "pms.timeZone",
            2,
        ),
    ] {
        let err = load(&yaml).unwrap_err().to_string();
        assert!(
            err.contains(key) && err.contains(&format!("line {line}")) && err.contains("IANA"),
            "{err}"
        );
    }
}

#[test]
fn look_ahead_days_are_bounded() {
    let yaml = format!(
        "pms:\n  sync:\n    arrivals:\n      schedule: \"*/5 * * * *\"\n      lookAheadDays: 400\nserver:\n{TOKEN}hotels:\n  - id: H1\n    adapter: mock\n"
    );
    let err = load(&yaml).unwrap_err().to_string();
    assert!(
        err.contains("pms.sync.arrivals.lookAheadDays") || err.contains("lookAheadDays"),
        "{err}"
    );
    assert!(err.contains("31"), "{err}");
}

#[test]
fn the_state_is_a_file_or_a_postgres_url_and_urls_never_show_in_errors() {
    let state = |block: &str| format!("server:\n{TOKEN}state:\n{block}");
    let config = load(&state("  path: s.db\n")).unwrap();
    assert!(
        matches!(&config.state.location, crate::db::Location::Sqlite(p) if p == Path::new("/etc/jack/s.db"))
    );
    assert_eq!(config.state.node_id, "local");
    let config = load(&state(
        "  url: \"postgres://jack:pw-secret@db:5432/jack\"\n  nodeId: jack-a\n",
    ))
    .unwrap();
    assert!(matches!(
        config.state.location,
        crate::db::Location::Postgres(_)
    ));
    assert_eq!(config.state.node_id, "jack-a");
    assert!(!format!("{:?}", config.state).contains("pw-secret"));
    // A PostgreSQL host without a node id gets one of its own process.
    let config = load(&state("  url: \"postgres://db/jack\"\n")).unwrap();
    assert!(
        config
            .state
            .node_id
            .ends_with(&format!("-{}", std::process::id()))
    );
    for (block, needle) in [
        (
            "  path: s.db\n  url: \"postgres://db/jack\"\n",
            "set one of path",
        ),
        (
            "  url: \"mysql://jack:pw-secret@db/jack\"\n",
            "not a PostgreSQL URL",
        ),
        ("  urlEnv: JACK_TEST_NO_SUCH_VARIABLE\n", "is not set"),
        ("  path: s.db\n  nodeId: \"two words\"\n", "state.nodeId"),
    ] {
        let e = load(&state(block)).unwrap_err().to_string();
        assert!(e.contains(needle), "{block}: {e}");
        assert!(!e.contains("pw-secret"), "{e}");
    }
}

#[test]
fn the_coordination_block_is_checked_and_never_shows_the_url() {
    use secrecy::ExposeSecret as _;
    let with = |block: &str| load(&format!("server:\n{TOKEN}coordination:\n{block}"));
    assert!(load(&format!("server:\n{TOKEN}")).unwrap().redis.is_none());
    let redis = with("  redis: redis://:hunter2@cache.internal:6379/0\n")
        .unwrap()
        .redis
        .unwrap();
    assert_eq!(
        redis.url.expose_secret(),
        "redis://:hunter2@cache.internal:6379/0"
    );
    assert_eq!(redis.key_prefix, "jack-pms");
    assert_eq!(redis.timeout, Duration::from_millis(250));
    assert!(!format!("{redis:?}").contains("hunter2"));
    for (block, expect) in [
        (
            "  redis: http://:hunter2@cache.internal/\n",
            "coordination.redis",
        ),
        ("  redis: redis://cache\n  redisEnv: X\n", "not both"),
        (
            "  redis: redis://cache\n  keyPrefix: \"a b\"\n",
            "coordination.keyPrefix",
        ),
        (
            "  redis: redis://cache\n  timeoutMs: 0\n",
            "coordination.timeoutMs",
        ),
        ("  keyPrefix: jack\n", "need redis or redisEnv"),
        (
            "  redisEnv: JACK_PMS_TEST_UNSET_REDIS_URL\n",
            "JACK_PMS_TEST_UNSET_REDIS_URL",
        ),
    ] {
        let err = with(block).unwrap_err().to_string();
        assert!(err.contains(expect), "{block}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[test]
fn token_scopes_load_and_unknown_ones_are_refused() {
    let sha = "3ed329c200789dc8eb56d61adf9da3dc1b51bf758be1afaacfb5554c3329f2b0";
    let yaml = format!(
        "server:\n  tokens:\n    - name: jack\n      sha256: {sha}\n    - name: desk\n      sha256: {sha}\n      scopes: [operator, approver]\nhotels:\n  - id: H1\n    adapter: mock\n"
    );
    let config = load(&yaml).unwrap();
    assert!(
        config.server.tokens[0].scopes.is_empty(),
        "no scope by default"
    );
    assert_eq!(
        config.server.tokens[1].scopes,
        [
            crate::config::TokenScope::Operator,
            crate::config::TokenScope::Approver
        ]
    );
    let err = load(&yaml.replace("approver]", "superuser]"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("superuser") && err.contains("line 7"), "{err}");
}
