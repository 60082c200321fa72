//! The adapter conformance suite (`jack-pms adapter test`), in the spirit of Airbyte's connector
//! acceptance tests: a standard set of scenarios any adapter must pass before a hotel runs it.
//!
//! The component runs in the real runtime (same sandbox, limits and egress pipeline as `serve`),
//! bound to one synthetic hotel whose allowed-host placeholders point at a made-up origin. The
//! pipeline's last step is the suite's [`transport::Harness`]: it forwards each request to the
//! PMS under test (`--against URL`) or answers from recorded exchanges (`--fixtures DIR`), and
//! injects the faults the scenarios need (statuses, malformed bodies). The host's retries are off,
//! so the adapter itself sees every answer; the manifest's rate limits stay on (a vendor's sandbox
//! must never suspend the key) unless `--unlimited` lifts them for a local simulator.
//!
//! Scenarios: the manifest and WIT version are valid and the component loads; `describe` names the
//! manifest's vendor; every declared operation answers with data that passes the contract's
//! checks (and a missing reservation reads as `none`); every undeclared operation answers
//! `unsupported` without touching the network; a bad credential yields `unauthorized`; 404, 408,
//! 429 and 5xx map to the right `pms-error`; malformed bodies never trap (and unreadable ones
//! become errors, never answers); writes can be found again with `find-write`; list operations
//! follow pagination to the end (exact counts from the profile's `[expect]`, and no request
//! repeated).

pub mod profile;
pub mod report;
pub mod transport;

use crate::config::{Config, HotelSettings};
use crate::egress::{Egress, Policy};
use crate::manifest::Manifest;
use crate::model::{Charge, GuestIdentifier, GuestQuery, PmsError, Preference, WriteTarget};
use crate::operation::{Call, Operation, Outcome};
use crate::runtime::call::CallError;
use crate::runtime::{HotelBinding, Runtime};
use crate::vault::{Secret, SecretStore, VaultError};
use profile::Profile;
use report::Report;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use transport::{Backend, Garbage, Harness, Mode};

/// Where the suite's PMS answers come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A running PMS or simulator at this base URL.
    Against(url::Url),
    /// A directory of recorded exchanges.
    Fixtures(PathBuf),
}

/// What to test.
#[derive(Debug, Clone)]
pub struct Options {
    /// The component.
    pub wasm: PathBuf,
    /// Its manifest.
    pub manifest: PathBuf,
    /// Where answers come from.
    pub source: Source,
    /// The profile; by default `conformance.toml` in the fixtures directory, else beside the
    /// manifest, else none.
    pub profile: Option<PathBuf>,
    /// Extra CA (PEM) to trust when talking to an `--against` PMS over https.
    pub ca_file: Option<PathBuf>,
    /// Lift the manifest's rate limits (a local simulator or mock PMS that has none). Off by
    /// default: a run against a vendor's sandbox must never get its key throttled or suspended.
    pub unlimited: bool,
}

/// Why the suite could not run at all (a failing adapter is a report, not this error).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A file could not be read or a directory made.
    #[error("{0}")]
    Io(String),
    /// The profile is unusable.
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    /// The fixtures are unusable.
    #[error(transparent)]
    Fixtures(#[from] jack_pms_sdk::testing::fixtures::FixtureError),
}

/// The synthetic hotel's id.
const HOTEL: &str = "CONFORMANCE";
/// The made-up origin allowed-host placeholders resolve to; the harness forwards from it.
const SYNTHETIC_HOST: &str = "pms.conformance.invalid";
/// A confirmation number no PMS holds.
const MISSING_CONFIRMATION: &str = "JACK-CONFORMANCE-NO-SUCH-RESERVATION";

/// Runs the suite.
pub async fn run(options: &Options) -> Result<Report, ConformanceError> {
    let source = match &options.source {
        Source::Against(url) => format!("against {url}"),
        Source::Fixtures(dir) => format!("with fixtures {}", dir.display()),
    };
    let manifest = match Manifest::load(&options.manifest) {
        Ok(m) => m,
        Err(e) => {
            let mut report = Report::new("?", "?", "?", source);
            report.fail(
                "manifest",
                e.to_string(),
                "fix the manifest as the message says (see the partner guide's manifest section)",
            );
            return Ok(report);
        }
    };
    let mut report = Report::new(&manifest.name, &manifest.vendor, &manifest.wit, source);
    report.pass(
        "manifest",
        format!("valid; targets {} (supported by this host)", manifest.wit),
    );

    let profile_path = options.profile.clone().or_else(|| {
        let beside = match &options.source {
            Source::Fixtures(dir) => dir.join("conformance.toml"),
            Source::Against(_) => options.manifest.with_file_name("conformance.toml"),
        };
        beside.exists().then_some(beside)
    });
    let profile = match &profile_path {
        Some(p) => Profile::load(p)?,
        None => Profile::default(),
    };
    let backend = match &options.source {
        Source::Against(base) => Backend::Against {
            base: base.clone(),
            client: client(options.ca_file.as_deref())?,
        },
        Source::Fixtures(dir) => {
            Backend::Fixtures(jack_pms_sdk::testing::fixtures::Fixtures::load(dir)?)
        }
    };
    let token_endpoint = manifest.auth_schemes().find_map(|a| {
        a.oauth()
            .map(|(o, _)| (o.token_origin.clone(), o.token_path.clone()))
    });
    let harness = Arc::new(Harness::new(backend, token_endpoint));

    let work = tempfile::tempdir()
        .map_err(|e| ConformanceError::Io(format!("cannot make a work directory: {e}")))?;
    for (from, ext) in [(&options.wasm, "wasm"), (&options.manifest, "toml")] {
        let to = work.path().join(format!("{}.{ext}", manifest.name));
        std::fs::copy(from, &to)
            .map_err(|e| ConformanceError::Io(format!("cannot read {}: {e}", from.display())))?;
    }
    let settings = hotel_settings(&manifest, &profile);
    let config = match conformance_config(work.path(), &manifest.name, &settings, options.unlimited)
    {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                "settings",
                e,
                "set the hotel settings the adapter needs under [settings] in conformance.toml",
            );
            return Ok(report);
        }
    };
    let against = matches!(options.source, Source::Against(_));
    let secrets = ProfileSecrets::new(&manifest, &profile, against, false);
    if let Some(missing) = &secrets.missing {
        report.fail(
            "credentials",
            format!("the profile gives no test value for secret(s) {missing}"),
            "add them under [secrets] in conformance.toml (a test value or { env = \"VAR\" })",
        );
        return Ok(report);
    }
    let mut ctx = match Ctx::new(&config, &harness, Arc::new(secrets)) {
        Ok(ctx) => ctx,
        Err(Refusal { check, detail, fix }) => {
            report.fail(check, detail, fix);
            return Ok(report);
        }
    };
    report.pass(
        "component",
        "loads: imports within what the host provides, the adapter interface exported",
    );

    let declared = describe(&mut ctx, &manifest, &mut report).await;
    let Some(declared) = declared else {
        return Ok(report);
    };
    let suite = Suite {
        profile: &profile,
        declared: &declared,
        fixtures: !against,
    };
    suite.operations(&mut ctx, &mut report).await;
    suite.unsupported(&mut ctx, &mut report).await;
    // A fresh pipeline, so that no token fetched with good credentials is reused.
    let wrong = ProfileSecrets::new(&manifest, &profile, against, true);
    match Ctx::new(&config, &harness, Arc::new(wrong)) {
        Ok(mut bad) => suite.credentials(&mut bad, &mut report).await,
        Err(r) => report.fail(r.check, r.detail, r.fix),
    }
    suite.statuses(&mut ctx, &mut report).await;
    suite.malformed(&mut ctx, &mut report).await;
    suite.pagination(&mut ctx, &mut report).await;
    Ok(report)
}

fn client(ca_file: Option<&Path>) -> Result<reqwest::Client, ConformanceError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .no_proxy();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| ConformanceError::Io(format!("cannot read {}: {e}", path.display())))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ConformanceError::Io(format!("{} is not a PEM CA file: {e}", path.display()))
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ConformanceError::Io(format!("cannot build the HTTP client: {e}")))
}

/// The profile's settings, plus a synthetic value for each allowed-host placeholder it leaves
/// unset (a whole-origin placeholder gets a URL, one inside a URL gets a host name).
fn hotel_settings(manifest: &Manifest, profile: &Profile) -> BTreeMap<String, String> {
    let mut settings = profile.settings.clone();
    for entry in &manifest.allowed_hosts {
        for key in crate::egress::allowlist::placeholders(entry).unwrap_or_default() {
            let whole = entry == &format!("{{{key}}}");
            settings.entry(key).or_insert_with(|| {
                if whole {
                    format!("https://{SYNTHETIC_HOST}")
                } else {
                    SYNTHETIC_HOST.to_string()
                }
            });
        }
    }
    settings
}

/// The config of the suite's one hotel: retries off, so that the adapter sees each injected
/// answer, and the manifest's rate limits kept unless `unlimited`; JSON is YAML, so the config is
/// built as a JSON value.
fn conformance_config(
    dir: &Path,
    adapter: &str,
    settings: &BTreeMap<String, String>,
    unlimited: bool,
) -> Result<Config, String> {
    let mut config = serde_json::json!({
        "server": { "tokens": [ { "name": "conformance", "sha256": "0".repeat(64) } ] },
        "adapters": {
            "dir": dir.display().to_string(),
            "cacheDir": dir.join("compiled").display().to_string(),
            "allowUnpinned": true,
            "maxConcurrentInstances": 4,
        },
        "hotels": [ {
            "id": HOTEL,
            "adapter": adapter,
            "settings": settings,
            "pms": { "retry": { "maxAttempts": 1 } },
        } ],
    });
    if unlimited {
        config["hotels"][0]["rateLimits"] =
            serde_json::json!([ { "requests": 1_000_000, "perSeconds": 1, "scope": "hotel" } ]);
    }
    Config::from_yaml(&config.to_string(), &dir.join("conformance.yaml")).map_err(|e| e.to_string())
}

/// Test secrets: the profile's values, dummy ones in fixtures mode, or deliberately wrong ones for
/// the bad-credential scenario.
struct ProfileSecrets {
    values: BTreeMap<String, Secret>,
    missing: Option<String>,
}

impl ProfileSecrets {
    fn new(manifest: &Manifest, profile: &Profile, against: bool, wrong: bool) -> ProfileSecrets {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for name in &manifest.secrets {
            let value = if wrong {
                Some(format!("jack-conformance-wrong-{name}"))
            } else if let Some(v) = profile.secrets.get(name) {
                Some(v.expose().to_string())
            } else if !against {
                Some(format!("jack-conformance-{name}"))
            } else {
                None
            };
            match value {
                Some(v) => {
                    values.insert(name.clone(), Secret::new(v));
                }
                // Only the chosen auth scheme's secrets matter; the rest may be absent.
                None if manifest
                    .auth_for(&profile.settings)
                    .is_ok_and(|a| a.secret_names().contains(&name.as_str())) =>
                {
                    missing.push(format!("`{name}`"))
                }
                None => {}
            }
        }
        ProfileSecrets {
            values,
            missing: (!missing.is_empty()).then(|| missing.join(", ")),
        }
    }
}

impl SecretStore for ProfileSecrets {
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError> {
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| VaultError::NotConfigured {
                hotel: hotel.into(),
                name: name.into(),
            })
    }
}

/// A check that failed before the scenarios could start.
struct Refusal {
    check: &'static str,
    detail: String,
    fix: &'static str,
}

/// A runtime bound to the suite's hotel, rebuilt after a sandbox failure so that the circuit
/// breaker of one scenario does not spill into the next.
struct Ctx {
    config: Config,
    egress: Arc<Egress>,
    secrets: Arc<dyn SecretStore>,
    harness: Arc<Harness>,
    runtime: Runtime,
    binding: HotelBinding,
}

impl Ctx {
    fn new(
        config: &Config,
        harness: &Arc<Harness>,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Ctx, Refusal> {
        let egress = Arc::new(Egress::with_transport(Policy::default(), harness.clone()));
        let (runtime, binding) = bind(config, &egress, &secrets)?;
        Ok(Ctx {
            config: config.clone(),
            egress,
            secrets,
            harness: harness.clone(),
            runtime,
            binding,
        })
    }

    /// Runs one call in `mode`; returns the result and the adapter's requests.
    async fn call(&mut self, mode: Mode, call: Call) -> (Result<Outcome, CallError>, usize) {
        self.harness.set(mode, false);
        let result = self.runtime.call(&self.binding, call).await;
        let requests = self.harness.seen().len();
        if result.as_ref().is_err_and(CallError::is_sandbox_failure)
            && let Ok((runtime, binding)) = bind(&self.config, &self.egress, &self.secrets)
        {
            self.runtime = runtime;
            self.binding = binding;
        }
        (result, requests)
    }
}

fn bind(
    config: &Config,
    egress: &Arc<Egress>,
    secrets: &Arc<dyn SecretStore>,
) -> Result<(Runtime, HotelBinding), Refusal> {
    let runtime = Runtime::new(config.adapters.clone(), egress.clone()).map_err(|e| Refusal {
        check: "component",
        detail: e.to_string(),
        fix: "the host could not start its runtime; report this as a host bug",
    })?;
    let hotel: &HotelSettings = config.hotels.first().ok_or(Refusal {
        check: "settings",
        detail: "no hotel".into(),
        fix: "report this as a host bug",
    })?;
    let binding = runtime.bind(hotel, secrets.clone()).map_err(|e| {
        let load = matches!(e, crate::runtime::BindError::Load(_));
        Refusal {
            check: if load { "component" } else { "settings" },
            detail: e.to_string(),
            fix: if load {
                "build a component for wasm32-wasip2 that exports jack:pms/adapter and imports only jack:pms/{http,log,config} (see `jack-pms adapter inspect`)"
            } else {
                "set the hotel settings the adapter needs under [settings] in conformance.toml"
            },
        }
    })?;
    Ok((runtime, binding))
}

/// `describe`: the vendor must be the manifest's; returns the declared operations.
async fn describe(
    ctx: &mut Ctx,
    manifest: &Manifest,
    report: &mut Report,
) -> Option<Vec<Operation>> {
    match ctx.call(Mode::Pass, Call::Describe).await {
        (Ok(Outcome::Info(info)), requests) => {
            let mut declared = Vec::new();
            let mut unknown = Vec::new();
            for name in &info.operations {
                match name.parse::<Operation>() {
                    Ok(op) => declared.push(op),
                    Err(_) => unknown.push(name.clone()),
                }
            }
            if info.vendor != manifest.vendor {
                report.fail(
                    "describe",
                    format!(
                        "describe names vendor `{}`, the manifest `{}`",
                        info.vendor, manifest.vendor
                    ),
                    "make Adapter::VENDOR and the manifest's `vendor` the same lowercase key",
                );
            } else if !unknown.is_empty() || requests > 0 {
                report.fail(
                    "describe",
                    format!(
                        "unknown operations {unknown:?}; {requests} network request(s) made"
                    ),
                    "describe must list only operations of the WIT interface and must not use the network",
                );
            } else {
                report.pass(
                    "describe",
                    format!(
                        "vendor {} version {}; {} operations declared",
                        info.vendor,
                        info.adapter_version,
                        declared.len()
                    ),
                );
            }
            Some(declared)
        }
        (other, _) => {
            report.fail(
                "describe",
                format!("describe did not answer: {other:?}"),
                "describe must answer without the network and without trapping",
            );
            None
        }
    }
}

/// The scenarios, over one profile and the operations `describe` declared.
struct Suite<'a> {
    profile: &'a Profile,
    declared: &'a [Operation],
    fixtures: bool,
}

/// Operations whose answer is a list that may span pages.
const LISTS: [Operation; 5] = [
    Operation::SearchGuests,
    Operation::GetArrivals,
    Operation::GetDepartures,
    Operation::GetInHouseGuests,
    Operation::GetAllRoomStatuses,
];

impl Suite<'_> {
    fn declares(&self, op: Operation) -> bool {
        self.declared.contains(&op)
    }

    /// The call the suite makes for `op`, or why it cannot (an input the profile lacks).
    fn sample(&self, op: Operation, operation_id: &str) -> Result<Call, String> {
        let i = &self.profile.inputs;
        let need = |v: &Option<String>, key: &str| {
            v.clone()
                .ok_or_else(|| format!("set inputs.{key} in conformance.toml to test it"))
        };
        let confirmation = || need(&i.confirmation_number, "confirmationNumber");
        Ok(match op {
            Operation::Describe => Call::Describe,
            Operation::HealthCheck => Call::HealthCheck,
            Operation::GetGuest => {
                Call::GetGuest(GuestIdentifier::Id(need(&i.guest_id, "guestId")?))
            }
            Operation::SearchGuests => Call::SearchGuests(match (&i.name, &i.email) {
                (Some(name), _) => GuestQuery {
                    name: Some(name.clone()),
                    ..GuestQuery::default()
                },
                (None, Some(email)) => GuestQuery {
                    email: Some(email.clone()),
                    ..GuestQuery::default()
                },
                (None, None) => {
                    return Err(
                        "set inputs.name or inputs.email in conformance.toml to test it".into(),
                    );
                }
            }),
            Operation::UpdateGuestPreferences => Call::UpdateGuestPreferences {
                operation_id: operation_id.into(),
                guest_pms_id: need(&i.guest_id, "guestId")?,
                preferences: vec![Preference {
                    category: i
                        .preference_category
                        .clone()
                        .unwrap_or_else(|| "PILLOW".into()),
                    code: i
                        .preference_code
                        .clone()
                        .unwrap_or_else(|| "FEATHER".into()),
                    description: Some("Set by the conformance suite".into()),
                }],
            },
            Operation::GetReservation => Call::GetReservation(confirmation()?),
            Operation::GetArrivals => Call::GetArrivals(self.profile.date()),
            Operation::GetDepartures => Call::GetDepartures(self.profile.date()),
            Operation::GetInHouseGuests => Call::GetInHouseGuests,
            Operation::AddReservationNote => Call::AddReservationNote {
                operation_id: operation_id.into(),
                confirmation_number: confirmation()?,
                note: format!("Conformance suite note {operation_id}"),
            },
            Operation::UpdateCheckoutTime => Call::UpdateCheckoutTime {
                operation_id: operation_id.into(),
                confirmation_number: confirmation()?,
                time: format!("{}T11:00:00Z", self.profile.date()),
            },
            Operation::PostCharge => Call::PostCharge {
                operation_id: operation_id.into(),
                confirmation_number: confirmation()?,
                charge: Charge {
                    amount: "1.00".into(),
                    currency: i.currency.clone().unwrap_or_else(|| "EUR".into()),
                    description: "Conformance suite charge".into(),
                    code: None,
                },
            },
            Operation::GetBalance => Call::GetBalance(confirmation()?),
            Operation::GetRoomStatus => Call::GetRoomStatus(need(&i.room_number, "roomNumber")?),
            Operation::GetAllRoomStatuses => Call::GetAllRoomStatuses,
            Operation::FindWrite => Call::FindWrite {
                operation_id: operation_id.into(),
                target: WriteTarget::ReservationNote(confirmation()?),
            },
        })
    }

    /// Every declared operation answers well-formed data; a missing reservation reads `none`;
    /// a write can be found again.
    async fn operations(&self, ctx: &mut Ctx, report: &mut Report) {
        let mut written: Vec<Written> = Vec::new();
        // A new check-out time must fall on the reservation's departure day for most vendors.
        let departure = match self.sample(Operation::GetReservation, "conformance-read") {
            Ok(call) if self.declares(Operation::GetReservation) => {
                match ctx.call(Mode::Pass, call).await {
                    (Ok(Outcome::Reservation(Some(r))), _) => Some(r.departure_date),
                    _ => None,
                }
            }
            _ => None,
        };
        for &op in self.declared {
            if matches!(op, Operation::Describe | Operation::FindWrite) {
                continue;
            }
            let id = format!("operations.{}", op.wit_name());
            let operation_id = format!("conformance-{}", uuid::Uuid::new_v4());
            let call = match self.sample(op, &operation_id) {
                Ok(Call::UpdateCheckoutTime {
                    operation_id,
                    confirmation_number,
                    time,
                }) => Call::UpdateCheckoutTime {
                    operation_id,
                    confirmation_number,
                    time: departure
                        .as_ref()
                        .map(|d| format!("{d}T10:00:00Z"))
                        .unwrap_or(time),
                },
                Ok(c) => c,
                Err(why) => {
                    report.skip(id, why);
                    continue;
                }
            };
            let target = write_target(&call);
            match ctx.call(Mode::Pass, call.clone()).await {
                (Ok(outcome), requests) => {
                    if let Some(rule) = stay_rule(&call, &outcome) {
                        report.fail(
                            format!("{id}.happening"),
                            rule,
                            "arrivals and departures list the stays that are happening on the date: filter out cancelled and no-show reservations (the SDK's `happening`) and any the vendor's search returns for another date",
                        );
                    }
                    report.pass(id, format!("{} ({requests} request(s))", summary(&outcome)));
                    if let Some(target) = target {
                        written.push(Written {
                            operation_id,
                            target,
                            call,
                        });
                    }
                }
                (Err(e), _) => {
                    let (detail, fix) = explain(&e);
                    report.fail(id, format!("failed against the PMS: {detail}"), fix);
                }
            }
        }
        if self.declares(Operation::GetReservation) {
            let id = "operations.get-reservation.missing";
            match ctx
                .call(Mode::Pass, Call::GetReservation(MISSING_CONFIRMATION.into()))
                .await
            {
                (Ok(Outcome::Reservation(None)), _) => {
                    report.pass(id, "a confirmation number the PMS does not hold reads as none")
                }
                (other, _) => report.fail(
                    id,
                    format!("a missing reservation answered {}", show(&other)),
                    "reads that find nothing return none (map the vendor's 404, 204 or empty result to None), not an error",
                ),
            }
        }
        if self.declares(Operation::FindWrite) {
            self.find_writes(ctx, report, written).await;
        }
    }

    /// Each write just made is found again. A note or a charge must read as applied: sent twice
    /// it would be there twice. A check-out time or preferences may read as absent or unknown:
    /// setting the same value again is harmless, so a resend costs nothing.
    async fn find_writes(&self, ctx: &mut Ctx, report: &mut Report, written: Vec<Written>) {
        use crate::model::WritePresence;
        let Some(last_target) = written.last().map(|w| w.target.clone()) else {
            report.skip(
                "operations.find-write",
                "no write succeeded to look up (see the write operations above)",
            );
            return;
        };
        for Written {
            operation_id,
            target,
            call: write,
        } in written
        {
            let (kind, must_apply) = match &target {
                WriteTarget::ReservationNote(_) => ("note", true),
                WriteTarget::Charge(_) => ("charge", true),
                WriteTarget::CheckoutTime(_) => ("checkout", false),
                WriteTarget::GuestPreferences(_) => ("preferences", false),
            };
            let id = format!("operations.find-write.{kind}");
            let call = Call::FindWrite {
                operation_id: operation_id.clone(),
                target,
            };
            match ctx.call(Mode::Pass, call).await {
                (Ok(Outcome::Presence(WritePresence::Applied)), _) => {
                    report.pass(id, format!("the write {operation_id} is found again (applied)"))
                }
                (Ok(Outcome::Presence(p)), _) if !must_apply => report.pass(
                    id,
                    format!("{p:?}: idempotent, so a resend after a lost answer is harmless"),
                ),
                // Not found again: harmless only if the vendor deduplicates by the operation id
                // (Cloudbeds' referenceID). Prove it by resending and looking.
                (Ok(Outcome::Presence(p)), _) => match self.resend_changes_nothing(ctx, &write).await {
                    Ok(how) => report.pass(
                        id,
                        format!("{p:?}, but resending it with the same operation id {how}: the PMS deduplicates"),
                    ),
                    Err(what) => report.fail(
                        id,
                        format!("the write just made answered {p:?}, and {what}"),
                        "store the host's operation id with the write and look it up in find-write (or make sure the vendor refuses a second write with the same reference); a note or charge sent twice would be doubled",
                    ),
                },
                (other, _) => report.fail(
                    id,
                    format!("the write just made answered {}", show(&other)),
                    "store the host's operation id with every write (a vendor reference field or the note text) and look it up in find-write; a note or charge sent twice would be doubled",
                ),
            }
        }
        let never = format!("conformance-never-{}", uuid::Uuid::new_v4());
        let call = Call::FindWrite {
            operation_id: never,
            target: last_target,
        };
        match ctx.call(Mode::Pass, call).await {
            (Ok(Outcome::Presence(p)), _) if p != WritePresence::Applied => report.pass(
                "operations.find-write.absent",
                format!("a write never made reads as {p:?}"),
            ),
            (other, _) => report.fail(
                "operations.find-write.absent",
                format!("a write never made answered {}", show(&other)),
                "find-write must answer absent (or unknown) for an operation id the PMS never saw",
            ),
        }
    }

    /// Sends `write` again (same operation id) and checks that what it writes did not change:
    /// the balance for a charge, the notes for a note. `Ok` says what was compared.
    async fn resend_changes_nothing(&self, ctx: &mut Ctx, write: &Call) -> Result<String, String> {
        let (look, describe): (Call, fn(&Outcome) -> String) = match write {
            Call::PostCharge {
                confirmation_number,
                ..
            } if self.declares(Operation::GetBalance) => {
                (Call::GetBalance(confirmation_number.clone()), |o| match o {
                    Outcome::Balance(m) => format!("{} {}", m.amount, m.currency),
                    other => summary(other),
                })
            }
            Call::AddReservationNote {
                confirmation_number,
                ..
            } if self.declares(Operation::GetReservation) => (
                Call::GetReservation(confirmation_number.clone()),
                |o| match o {
                    Outcome::Reservation(Some(r)) => format!("{} note(s)", r.notes.len()),
                    other => summary(other),
                },
            ),
            _ => return Err("the suite cannot check a resend of it".into()),
        };
        let before = match ctx.call(Mode::Pass, look.clone()).await {
            (Ok(o), _) => describe(&o),
            (Err(e), _) => return Err(format!("reading it back failed: {e}")),
        };
        // The PMS may refuse the duplicate (a conflict) or accept it silently; either is fine as
        // long as nothing is written twice.
        let _ = ctx.call(Mode::Pass, write.clone()).await;
        let after = match ctx.call(Mode::Pass, look).await {
            (Ok(o), _) => describe(&o),
            (Err(e), _) => return Err(format!("reading it back failed: {e}")),
        };
        if before == after {
            Ok(format!("left it at {after}"))
        } else {
            Err(format!(
                "resending it with the same operation id wrote it twice ({before} → {after})"
            ))
        }
    }

    /// Every undeclared operation answers `unsupported`, without a request.
    async fn unsupported(&self, ctx: &mut Ctx, report: &mut Report) {
        for op in Operation::ALL {
            if op == Operation::Describe || self.declares(op) {
                continue;
            }
            let id = format!("unsupported.{}", op.wit_name());
            let call = dummy(op);
            match ctx.call(Mode::Pass, call).await {
                (Err(CallError::Pms(PmsError::Unsupported(why))), 0) => {
                    report.pass(id, format!("unsupported: {why}"))
                }
                // The SDK's default find-write answers `unknown` (the host then never resends
                // blindly), which is as honest as `unsupported`.
                (Ok(Outcome::Presence(crate::model::WritePresence::Unknown)), 0)
                    if op == Operation::FindWrite =>
                {
                    report.pass(id, "unknown: the adapter cannot tell whether a write arrived")
                }
                (Err(CallError::Pms(PmsError::Unsupported(_))), n) => report.fail(
                    id,
                    format!("answered unsupported but made {n} request(s) first"),
                    "an operation the vendor cannot do must answer unsupported at once",
                ),
                (other, _) => report.fail(
                    id,
                    format!("not declared by describe, yet answered {}", show(&other)),
                    "either list the operation in Adapter::OPERATIONS or leave its default body (unsupported)",
                ),
            }
        }
    }

    /// A bad credential yields `unauthorized`.
    async fn credentials(&self, bad: &mut Ctx, report: &mut Report) {
        let Some((op, call)) = self.probe(&[Operation::HealthCheck]) else {
            report.skip("credentials", "no read operation could be called");
            return;
        };
        // Against a real PMS the wrong secrets are refused by it; fixtures cannot check
        // credentials, so every answer (token requests included) is a 401 there.
        let mode = if self.fixtures {
            Mode::Status(401)
        } else {
            Mode::Pass
        };
        bad.harness.set(mode, true);
        let result = bad.runtime.call(&bad.binding, call).await;
        match result {
            Err(CallError::Pms(PmsError::Unauthorized(m))) => report.pass(
                "credentials",
                format!(
                    "{} with a wrong credential: unauthorized ({m})",
                    op.wit_name()
                ),
            ),
            Ok(Outcome::Health(h)) if !h.healthy => report.pass(
                "credentials",
                format!(
                    "health-check with a wrong credential: unhealthy ({:?})",
                    h.detail
                ),
            ),
            other => report.fail(
                "credentials",
                format!(
                    "{} with a wrong credential answered {}",
                    op.wit_name(),
                    show(&other)
                ),
                "map the vendor's 401/403 (or its own refusal style) to pms-error unauthorized",
            ),
        }
    }

    /// A read operation the suite can call (preferring `first`, then single reads, then lists).
    fn probe(&self, first: &[Operation]) -> Option<(Operation, Call)> {
        first
            .iter()
            .chain(&[
                Operation::GetReservation,
                Operation::GetGuest,
                Operation::GetRoomStatus,
                Operation::GetBalance,
                Operation::GetArrivals,
                Operation::GetInHouseGuests,
                Operation::GetAllRoomStatuses,
                Operation::SearchGuests,
            ])
            .filter(|op| self.declares(**op))
            .find_map(|&op| self.sample(op, "conformance-probe").ok().map(|c| (op, c)))
    }

    /// 404, 408, 429 and 5xx map to the right `pms-error`.
    async fn statuses(&self, ctx: &mut Ctx, report: &mut Report) {
        let Some((op, call)) = self.probe(&[]) else {
            report.skip("statuses", "no read operation could be called");
            return;
        };
        for status in [404u16, 408, 429, 500, 503] {
            let id = format!("statuses.{status}.{}", op.wit_name());
            let (result, _) = ctx.call(Mode::Status(status), call.clone()).await;
            let (ok, want) = match status {
                // A vendor whose API never answers 404 for a missing record (Mews: POST-only, a
                // 404 means a wrong address) may call it `internal`; what it must not do is
                // answer with data, or call it a transient failure.
                404 => (
                    matches!(
                        &result,
                        Err(CallError::Pms(PmsError::NotFound | PmsError::Internal(_)))
                            | Ok(Outcome::Reservation(None))
                            | Ok(Outcome::Guest(None))
                            | Ok(Outcome::Room(None))
                    ) || matches!(&result, Ok(o) if is_empty_list(o)),
                    "none or not-found (internal, for a vendor whose 404 means a wrong address)",
                ),
                429 => (
                    matches!(&result, Err(CallError::Pms(PmsError::RateLimited(_)))),
                    "rate-limited (with the Retry-After in ms)",
                ),
                _ => (
                    matches!(&result, Err(CallError::Pms(PmsError::Unavailable(_)))),
                    "unavailable",
                ),
            };
            if ok {
                report.pass(id, format!("HTTP {status} → {}", show(&result)));
            } else {
                report.fail(
                    id,
                    format!("HTTP {status} answered {}; expected {want}", show(&result)),
                    "map statuses as jack_pms_sdk::errors::from_status does (404 → not-found/none, 408 and 5xx → unavailable, 429 → rate-limited)",
                );
            }
        }
    }

    /// Malformed bodies never trap; unreadable ones become errors on reads.
    async fn malformed(&self, ctx: &mut Ctx, report: &mut Report) {
        for &op in self.declared {
            if op == Operation::Describe {
                continue;
            }
            let id = format!("malformed.{}", op.wit_name());
            let Ok(call) = self.sample(op, "conformance-malformed") else {
                report.skip(id, "no input for it in the profile");
                continue;
            };
            let mut problems = Vec::new();
            for garbage in Garbage::ALL {
                let (result, _) = ctx.call(Mode::Garbage(garbage), call.clone()).await;
                match &result {
                    Err(e) if e.is_sandbox_failure() => {
                        problems.push(format!("{}: {e}", garbage.name()))
                    }
                    Ok(_)
                        if garbage.must_fail()
                            && !op.is_write()
                            && op != Operation::HealthCheck =>
                    {
                        problems.push(format!(
                            "{}: answered {} instead of an error",
                            garbage.name(),
                            show(&result)
                        ))
                    }
                    _ => {}
                }
            }
            if problems.is_empty() {
                report.pass(
                    id,
                    format!("{} malformed bodies, no trap", Garbage::ALL.len()),
                );
            } else {
                report.fail(
                    id,
                    problems.join("; "),
                    "parse every body with serde into a Result and turn failures into pms-error internal; never unwrap, expect or index what the PMS sent",
                );
            }
        }
    }

    /// List operations follow pagination to the end.
    async fn pagination(&self, ctx: &mut Ctx, report: &mut Report) {
        let e = &self.profile.expect;
        for op in LISTS {
            if !self.declares(op) {
                continue;
            }
            let expected = match op {
                Operation::GetArrivals => e.arrivals,
                Operation::GetDepartures => e.departures,
                Operation::GetInHouseGuests => e.in_house,
                Operation::GetAllRoomStatuses => e.rooms,
                _ => e.guests_by_name,
            };
            let id = format!("pagination.{}", op.wit_name());
            let Ok(call) = self.sample(op, "conformance-pages") else {
                continue;
            };
            let (result, _) = ctx.call(Mode::Pass, call).await;
            let seen = ctx.harness.seen();
            let mut distinct = HashSet::new();
            let repeated = seen
                .iter()
                .find(|s| !distinct.insert((s.method.clone(), s.url.clone(), s.body.clone())));
            let unmatched = ctx.harness.unmatched();
            match (result, repeated) {
                (Err(e), _) => report.fail(id, format!("failed: {e}"), explain(&e).1),
                (Ok(_), Some(r)) => report.fail(
                    id,
                    format!("requested {} {} twice in one call", r.method, r.url),
                    "advance the page, offset or cursor on every request, and stop when the vendor says there is no more",
                ),
                (Ok(outcome), None) => {
                    let count = list_len(&outcome);
                    match expected {
                        Some(want) if want != count => report.fail(
                            id,
                            format!(
                                "{count} items over {} request(s); the PMS holds {want}{}",
                                seen.len(),
                                if unmatched.is_empty() { String::new() } else { format!(" (no fixture for {})", unmatched.join(", ")) }
                            ),
                            "follow the vendor's pagination to the last page (and never stop at a page-size or record ceiling silently)",
                        ),
                        Some(want) => report.pass(
                            id,
                            format!("all {want} items over {} request(s)", seen.len()),
                        ),
                        None => report.pass(
                            id,
                            format!(
                                "{count} items over {} distinct request(s) (set expect.* in the profile to check the count)",
                                seen.len()
                            ),
                        ),
                    }
                }
            }
        }
    }
}

/// A write the suite made and saw succeed.
struct Written {
    operation_id: String,
    target: WriteTarget,
    call: Call,
}

/// A call for `op` with placeholder arguments (for operations that must answer unsupported).
fn dummy(op: Operation) -> Call {
    let s = || "JACK-CONFORMANCE".to_string();
    match op {
        Operation::Describe => Call::Describe,
        Operation::HealthCheck => Call::HealthCheck,
        Operation::GetGuest => Call::GetGuest(GuestIdentifier::Id(s())),
        Operation::SearchGuests => Call::SearchGuests(GuestQuery {
            name: Some(s()),
            ..GuestQuery::default()
        }),
        Operation::UpdateGuestPreferences => Call::UpdateGuestPreferences {
            operation_id: s(),
            guest_pms_id: s(),
            preferences: vec![],
        },
        Operation::GetReservation => Call::GetReservation(s()),
        Operation::GetArrivals => Call::GetArrivals("2026-01-01".into()),
        Operation::GetDepartures => Call::GetDepartures("2026-01-01".into()),
        Operation::GetInHouseGuests => Call::GetInHouseGuests,
        Operation::AddReservationNote => Call::AddReservationNote {
            operation_id: s(),
            confirmation_number: s(),
            note: s(),
        },
        Operation::UpdateCheckoutTime => Call::UpdateCheckoutTime {
            operation_id: s(),
            confirmation_number: s(),
            time: "2026-01-01T11:00:00Z".into(),
        },
        Operation::PostCharge => Call::PostCharge {
            operation_id: s(),
            confirmation_number: s(),
            charge: Charge {
                amount: "1.00".into(),
                currency: "EUR".into(),
                description: s(),
                code: None,
            },
        },
        Operation::GetBalance => Call::GetBalance(s()),
        Operation::GetRoomStatus => Call::GetRoomStatus(s()),
        Operation::GetAllRoomStatuses => Call::GetAllRoomStatuses,
        Operation::FindWrite => Call::FindWrite {
            operation_id: s(),
            target: WriteTarget::ReservationNote(s()),
        },
    }
}

/// What a write call wrote to, for the find-write scenario.
fn write_target(call: &Call) -> Option<WriteTarget> {
    match call {
        Call::AddReservationNote {
            confirmation_number,
            ..
        } => Some(WriteTarget::ReservationNote(confirmation_number.clone())),
        Call::PostCharge {
            confirmation_number,
            ..
        } => Some(WriteTarget::Charge(confirmation_number.clone())),
        Call::UpdateCheckoutTime {
            confirmation_number,
            ..
        } => Some(WriteTarget::CheckoutTime(confirmation_number.clone())),
        Call::UpdateGuestPreferences { guest_pms_id, .. } => {
            Some(WriteTarget::GuestPreferences(guest_pms_id.clone()))
        }
        _ => None,
    }
}

/// What breaks the contract's rule for arrivals and departures in `outcome`, if anything: every
/// stay listed is happening (not cancelled, not no-show) and arrives (or departs) on the date.
fn stay_rule(call: &Call, outcome: &Outcome) -> Option<String> {
    use crate::model::ReservationStatus;
    let (date, departing) = match call {
        Call::GetArrivals(date) => (date, false),
        Call::GetDepartures(date) => (date, true),
        _ => return None,
    };
    let Outcome::Reservations(list) = outcome else {
        return None;
    };
    list.iter().find_map(|r| {
        let on = if departing {
            &r.departure_date
        } else {
            &r.arrival_date
        };
        if matches!(
            r.status,
            ReservationStatus::Cancelled | ReservationStatus::NoShow
        ) {
            Some(format!(
                "reservation `{}` is listed for {date} although it is {:?}",
                crate::untrusted::escape(&r.confirmation_number, 64),
                r.status
            ))
        } else if on != date {
            Some(format!(
                "reservation `{}` is listed for {date} but {} on {}",
                crate::untrusted::escape(&r.confirmation_number, 64),
                if departing { "departs" } else { "arrives" },
                crate::untrusted::escape(on, 32)
            ))
        } else {
            None
        }
    })
}

fn list_len(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Guests(g) => g.len(),
        Outcome::Reservations(r) => r.len(),
        Outcome::Rooms(r) => r.len(),
        _ => 1,
    }
}

fn is_empty_list(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Guests(_) | Outcome::Reservations(_) | Outcome::Rooms(_)
    ) && list_len(outcome) == 0
}

fn summary(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Info(i) => format!("vendor {}", i.vendor),
        Outcome::Health(h) => format!("healthy: {}", h.healthy),
        Outcome::Guest(g) => g
            .as_ref()
            .map_or("none".into(), |g| format!("guest {}", g.id)),
        Outcome::Guests(g) => format!("{} guest(s)", g.len()),
        Outcome::Reservation(r) => r.as_ref().map_or("none".into(), |r| {
            format!("reservation {}", r.confirmation_number)
        }),
        Outcome::Reservations(r) => format!("{} reservation(s)", r.len()),
        Outcome::Receipt(r) => format!("receipt {r:?}"),
        Outcome::Balance(m) => format!("balance {} {}", m.amount, m.currency),
        Outcome::Room(r) => r
            .as_ref()
            .map_or("none".into(), |r| format!("room {}", r.room_number)),
        Outcome::Rooms(r) => format!("{} room(s)", r.len()),
        Outcome::Presence(p) => format!("{p:?}"),
    }
}

fn show(result: &Result<Outcome, CallError>) -> String {
    match result {
        Ok(o) => summary(o),
        Err(CallError::Pms(e)) => format!("pms-error `{}`", pms_error_name(e)),
        Err(e) => e.to_string(),
    }
}

fn pms_error_name(e: &PmsError) -> String {
    match e {
        PmsError::NotFound => "not-found".into(),
        PmsError::Unauthorized(m) => format!("unauthorized: {m}"),
        PmsError::RateLimited(ms) => format!("rate-limited: {ms:?} ms"),
        PmsError::Unavailable(m) => format!("unavailable: {m}"),
        PmsError::InvalidRequest(m) => format!("invalid-request: {m}"),
        PmsError::Unsupported(m) => format!("unsupported: {m}"),
        PmsError::Conflict(m) => format!("conflict: {m}"),
        PmsError::Internal(m) => format!("internal: {m}"),
    }
}

/// A failed call's description and the fix to suggest.
fn explain(e: &CallError) -> (String, &'static str) {
    let text = match e {
        CallError::Pms(p) => pms_error_name(p),
        other => other.to_string(),
    };
    let fix = if text.contains("refused the destination") {
        "the adapter called a host its manifest does not allow: build URLs only from the allowed hosts (add the host to allowed_hosts if the vendor really needs it)"
    } else if text.contains("refused the header") {
        "do not set credential headers: name the scheme with .credentials(...) and let the host apply it"
    } else if e.is_sandbox_failure() {
        "the adapter trapped or ran out of time or memory: turn every failure into a pms-error"
    } else if matches!(e, CallError::InvalidOutput { .. }) {
        "the answer breaks the contract's data rules (see the reason): fix the mapping"
    } else {
        "check the profile's inputs exist in the PMS, then the request the adapter builds and its mapping"
    };
    (text, fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reservation, ReservationStatus};

    fn stay(
        number: &str,
        status: ReservationStatus,
        arrival: &str,
        departure: &str,
    ) -> Reservation {
        Reservation::stay(number, status, arrival, departure)
    }

    #[test]
    fn arrivals_and_departures_hold_happening_stays_of_the_date_only() {
        let arrivals = Call::GetArrivals("2026-12-02".into());
        let departures = Call::GetDepartures("2026-12-04".into());
        let ok = Outcome::Reservations(vec![
            stay(
                "A1",
                ReservationStatus::Reserved,
                "2026-12-02",
                "2026-12-04",
            ),
            stay(
                "A2",
                ReservationStatus::CheckedIn,
                "2026-12-02",
                "2026-12-04",
            ),
        ]);
        assert_eq!(stay_rule(&arrivals, &ok), None);
        assert_eq!(stay_rule(&departures, &ok), None);
        for (status, word) in [
            (ReservationStatus::Cancelled, "Cancelled"),
            (ReservationStatus::NoShow, "NoShow"),
        ] {
            let listed =
                Outcome::Reservations(vec![stay("C1", status, "2026-12-02", "2026-12-04")]);
            let rule = stay_rule(&arrivals, &listed).expect("refused");
            assert!(rule.contains("C1") && rule.contains(word), "{rule}");
            assert!(stay_rule(&departures, &listed).is_some());
        }
        let elsewhere = Outcome::Reservations(vec![stay(
            "W1",
            ReservationStatus::Reserved,
            "2026-12-01",
            "2026-12-04",
        )]);
        let rule = stay_rule(&arrivals, &elsewhere).expect("another day");
        assert!(rule.contains("arrives on 2026-12-01"), "{rule}");
        assert_eq!(stay_rule(&Call::GetInHouseGuests, &elsewhere), None);
    }
}
