//! Oracle OPERA Cloud through OHIP, the Oracle Hospitality Integration Platform (vendor-api
//! NOTES §1 and Oracle's OpenAPI files): profiles in `crm/v1`, reservations in `rsv/v1`, folios
//! and charges in `csh/v1`, housekeeping in `hsk/v1`.
//!
//! The host applies every header OHIP needs: the bearer token (its OAuth scheme fetches and
//! refreshes it), `x-app-key`, and `x-hotelid` from the hotel's settings. The adapter only names
//! the credential scheme: `oauth2-client-credentials`, or `oauth2-password` when the hotel's
//! `authScheme` setting says so (Oracle's own examples use the password grant).

pub mod mapping;
pub mod time;
pub mod wire;

/// The SDK this adapter is built on, so that native users of the mapping (the host's benchmark)
/// can name its types.
pub use jack_pms_sdk;

use jack_pms_sdk::http::path_segment as encode;
use jack_pms_sdk::prelude::*;
use mapping::{RESULT_CEILING, ohip_error, parse};
use time::HotelZone;

/// The adapter type; all its behaviour is in the [`Adapter`] impl.
pub struct Opera;

/// Records asked for per page of a reservation or housekeeping list.
pub const PAGE_SIZE: u32 = 200;
/// Safety stop: never loop forever on a PMS that keeps announcing more pages.
const MAX_PAGES: u32 = 60;
/// Profiles fetched one by one for a search; a broader search must be narrowed.
const MAX_SEARCH_PROFILES: usize = 20;
/// Profiles asked for per page of a guest search.
const PROFILE_PAGE_SIZE: u32 = 50;
/// The comment title of earlier versions: `jack:<operation id>` (still recognised).
const LEGACY_OPERATION_TITLE: &str = "jack:";

/// The title of a comment Jack writes: what staff read above it in OPERA, and how `find-write`
/// knows it again (OHIP keeps no reference of ours on a comment).
fn comment_title(operation_id: &str) -> String {
    format!("Jack, ref {}", jack_pms_sdk::notes::reference(operation_id))
}

/// What every call needs from the hotel's settings.
struct Ctx {
    base: String,
    hotel: String,
    zone: HotelZone,
    scheme: CredentialScheme,
}

impl Ctx {
    fn load() -> Result<Ctx, PmsError> {
        let hostname = config::require("hostname")?;
        let base = if hostname.contains("://") {
            hostname.trim_end_matches('/').to_string()
        } else {
            format!("https://{}", hostname.trim_end_matches('/'))
        };
        let scheme = match config::get("authScheme").as_deref() {
            None | Some("oauth2-client-credentials") => CredentialScheme::Oauth2ClientCredentials,
            Some("oauth2-password") => CredentialScheme::Oauth2Password,
            Some(other) => {
                return Err(invalid_request(format!(
                    "the hotel setting `authScheme` is `{other}`; OHIP takes oauth2-client-credentials or oauth2-password"
                )));
            }
        };
        Ok(Ctx {
            base,
            hotel: config::require("hotelId")?,
            zone: HotelZone::parse(&config::require("timeZone")?)?,
            scheme,
        })
    }

    /// `{base}/{module}/v1/hotels/{hotelId}{path}`.
    fn hotel_url(&self, module: &str, path: &str) -> String {
        format!(
            "{}/{module}/v1/hotels/{}{path}",
            self.base,
            encode(&self.hotel)
        )
    }

    fn request(&self, method: Method, url: String) -> Request {
        Request::new(method, url)
            .credentials(self.scheme)
            .header("accept", "application/json")
    }

    fn get(&self, url: String) -> Request {
        self.request(Method::Get, url)
    }
}

/// Sends and answers the body of a 2xx other than 204; `None` for 204 (OHIP's "not found");
/// OHIP's error body as a `pms-error` otherwise.
fn fetch(request: Request) -> Result<Option<Vec<u8>>, PmsError> {
    let response = request.send()?;
    match response.status() {
        204 => Ok(None),
        200..=299 => Ok(Some(response.bytes().to_vec())),
        status => Err(ohip_error(
            status,
            response.bytes(),
            response.retry_after_ms(),
        )),
    }
}

/// A write: the body OHIP answered (2xx), or its error.
fn write(request: Request) -> Result<Vec<u8>, PmsError> {
    Ok(fetch(request)?.unwrap_or_default())
}

/// One page of an offset-paged OHIP list: what it maps to, how many records it held (the next
/// offset moves by that many) and whether OHIP says more follow.
struct Batch<T> {
    items: Vec<T>,
    records: usize,
    more: bool,
}

/// Follows OHIP's `offset`/`limit`/`hasMore` to the end of a list (`what` names it in errors),
/// `read` mapping each page given the number of records read before it. Never returns a part as
/// if it were all: an empty page announcing more, or more than `MAX_PAGES` pages, is an error.
fn follow_offsets<T>(
    ctx: &Ctx,
    url: &str,
    filter: &[(&str, String)],
    limit: u32,
    what: &str,
    mut read: impl FnMut(&[u8], usize) -> Result<Batch<T>, PmsError>,
) -> Result<Vec<T>, PmsError> {
    let mut all = Vec::new();
    let mut offset = 0;
    for _ in 0..MAX_PAGES {
        let request = filter
            .iter()
            .fold(ctx.get(url.to_string()), |r, (k, v)| r.query(k, v))
            .query("limit", limit.to_string())
            .query("offset", offset.to_string());
        let Some(body) = fetch(request)? else {
            return Ok(all);
        };
        let batch = read(&body, offset)?;
        all.extend(batch.items);
        if !batch.more {
            return Ok(all);
        }
        if batch.records == 0 {
            return Err(internal(format!(
                "OHIP announced more {what} but sent an empty page"
            )));
        }
        offset += batch.records;
    }
    Err(internal(format!(
        "OHIP announced more than {MAX_PAGES} pages of {what}; refusing to return a partial list"
    )))
}

/// Every reservation of one OHIP search, or `None` when OHIP cut the list at its 1,000-record
/// ceiling (the caller then splits the search; a cut list is never returned as if it were all).
fn reservation_search(
    ctx: &Ctx,
    filter: &[(&str, String)],
) -> Result<Option<Vec<Reservation>>, PmsError> {
    let url = ctx.hotel_url("rsv", "/reservations");
    let mut cut = false;
    let all = follow_offsets(
        ctx,
        &url,
        filter,
        PAGE_SIZE,
        "reservations",
        |body, before| {
            let page = mapping::reservations_page(body, ctx.zone)?;
            let records = page.reservations.len();
            if page.total_results.is_some_and(|t| t >= RESULT_CEILING)
                || (before + records) as u64 > RESULT_CEILING
            {
                cut = true;
                return Ok(Batch {
                    items: Vec::new(),
                    records,
                    more: false,
                });
            }
            Ok(Batch {
                items: page.reservations,
                records,
                more: page.has_more,
            })
        },
    )?;
    Ok((!cut).then_some(all))
}

/// OHIP's `x-request-id` for a write: the spec requires a UUID (`8-4-4-4-12` hex), so the host's
/// operation id (`op-` and 32 hex digits) is laid out as one, its last 32 hex digits (zeros in
/// front when it has fewer). The same operation always gets the same id, so OHIP's logs tie
/// every attempt of one write together.
fn request_id(operation_id: &str) -> String {
    let digits: Vec<u8> = operation_id
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let tail = &digits[digits.len().saturating_sub(32)..];
    let mut hex = vec![b'0'; 32 - tail.len()];
    hex.extend_from_slice(tail);
    let part = |range: std::ops::Range<usize>| String::from_utf8_lossy(&hex[range]).into_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// The most searches one list may be split into (each under OHIP's ceiling): with it, a list
/// of up to `MAX_SPLITS` x 999 reservations (about 63,000) is returned whole.
const MAX_SPLITS: usize = 64;

/// Every reservation matching `filter`, however many there are: a search OHIP cuts at its
/// 1,000-record ceiling is split by the date range `by` (`departure`: `departureStartDate`/
/// `departureEndDate`, or `arrival`) over the windows `windows` (which together cover every
/// date the matching reservations can have there), each window that is still cut being halved
/// until it fits. Fails, naming the search, only when one day of `by` alone holds 1,000 or more
/// of them, or the list needs more than [`MAX_SPLITS`] searches.
fn complete_search(
    ctx: &Ctx,
    filter: &[(&str, String)],
    by: &str,
    windows: &[(Date, Date)],
) -> Result<Vec<Reservation>, PmsError> {
    if let Some(all) = reservation_search(ctx, filter)? {
        return Ok(all);
    }
    let (start_key, end_key) = match by {
        "arrival" => ("arrivalStartDate", "arrivalEndDate"),
        _ => ("departureStartDate", "departureEndDate"),
    };
    let mut found = std::collections::BTreeMap::new();
    let mut pending: Vec<(Date, Date)> = windows.iter().rev().copied().collect();
    let mut searches = 1;
    while let Some((from, to)) = pending.pop() {
        searches += 1;
        if searches > MAX_SPLITS {
            return Err(ceiling(filter, "even split into smaller searches"));
        }
        let mut part: Vec<(&str, String)> = filter.to_vec();
        part.push((start_key, from.to_string()));
        part.push((end_key, to.to_string()));
        match reservation_search(ctx, &part)? {
            Some(rs) => {
                for r in rs {
                    found.insert(r.id.clone(), r);
                }
            }
            None if from == to => return Err(ceiling(&part, "on a single day")),
            None => {
                let days = to.days_since_epoch() - from.days_since_epoch();
                let middle = from.add_days(days / 2);
                pending.push((middle.add_days(1), to));
                pending.push((from, middle));
            }
        }
    }
    Ok(found.into_values().collect())
}

/// Windows of `by` dates that cover every date from `first` to `last`: a day at a time near
/// `near` (where most reservations are), wider further away.
fn windows_around(near: Date, first: Date, last: Date) -> Vec<(Date, Date)> {
    let mut out = Vec::new();
    let mut day = first;
    while day.days_since_epoch() <= last.days_since_epoch() {
        let offset = day.days_since_epoch() - near.days_since_epoch();
        // (width - 1, and the nearest distance the zone reaches): single days within a week of
        // `near`, weeks within a month, years beyond.
        let (width, zone_edge) = match offset.abs() {
            0..=6 => (0, 0),
            7..=30 => (6, 7),
            _ => (364, 31),
        };
        let mut end = day.add_days(width).days_since_epoch();
        if offset < 0 {
            // Walking towards `near`: a wide window stops where the narrower zone begins.
            end = end.min(near.days_since_epoch() - zone_edge);
        }
        let end = Date::from_days_since_epoch(end.min(last.days_since_epoch()));
        out.push((day, end));
        day = end.add_days(1);
    }
    out
}

/// How far from the searched date a stay's other end may lie: ten years.
const STAY_SPAN_DAYS: i64 = 3650;

fn ceiling(filter: &[(&str, String)], how: &str) -> PmsError {
    let what: Vec<String> = filter.iter().map(|(k, v)| format!("{k}={v}")).collect();
    internal(format!(
        "OHIP returns at most {RESULT_CEILING} records per search and the search {} reached that \
         ceiling {how}; refusing to return a list that may be incomplete",
        what.join("&")
    ))
}

/// The list entry of the reservation with `confirmation_number`, if OHIP has it.
fn find_reservation(
    ctx: &Ctx,
    confirmation_number: &str,
) -> Result<Option<wire::ReservationInfo>, PmsError> {
    let request = ctx
        .get(ctx.hotel_url("rsv", "/reservations"))
        .query("confirmationNumberList", confirmation_number)
        .query("limit", "5");
    let Some(body) = fetch(request)? else {
        return Ok(None);
    };
    let details: wire::ReservationsDetails = parse(&body, "reservation list")?;
    Ok(details
        .reservations
        .unwrap_or_default()
        .reservation_info
        .into_iter()
        .find(|r| wire::id_of(&r.reservation_id_list, "Confirmation") == Some(confirmation_number)))
}

/// The internal reservation id for a confirmation number; `not-found` when there is none
/// (writes need a target).
fn reservation_id(
    ctx: &Ctx,
    confirmation_number: &str,
) -> Result<(String, wire::ReservationInfo), PmsError> {
    let info = find_reservation(ctx, confirmation_number)?.ok_or(PmsError::NotFound)?;
    let id = wire::id_of(&info.reservation_id_list, "Reservation")
        .ok_or_else(|| {
            internal(format!(
                "OHIP sent reservation {confirmation_number} without its internal Reservation id"
            ))
        })?
        .to_string();
    Ok((id, info))
}

/// The full reservation (comments included) by internal id.
fn full_reservation(ctx: &Ctx, id: &str) -> Result<Option<wire::HotelReservation>, PmsError> {
    let request = ctx
        .get(ctx.hotel_url("rsv", &format!("/reservations/{}", encode(id))))
        .query("fetchInstructions", "Reservation")
        .query("fetchInstructions", "Comments");
    let Some(body) = fetch(request)? else {
        return Ok(None);
    };
    let envelope: wire::ReservationEnvelope = parse(&body, "reservation")?;
    Ok(envelope
        .reservations
        .and_then(|r| r.reservation.into_iter().next()))
}

fn profile(ctx: &Ctx, profile_id: &str) -> Result<Option<Guest>, PmsError> {
    let mut request = ctx
        .get(format!(
            "{}/crm/v1/profiles/{}",
            ctx.base,
            encode(profile_id)
        ))
        .query("hotelId", &ctx.hotel);
    for what in ["Profile", "Communication", "Membership", "Preference"] {
        request = request.query("fetchInstructions", what);
    }
    match fetch(request)? {
        Some(body) => mapping::guest_body(&body, profile_id),
        None => Ok(None),
    }
}

/// Profile ids matching a search, all pages.
fn profile_ids(ctx: &Ctx, filter: &[(&str, String)]) -> Result<Vec<String>, PmsError> {
    let url = format!("{}/crm/v1/profiles", ctx.base);
    let mut filter = filter.to_vec();
    filter.push(("profileType", "Guest".into()));
    filter.push(("hotelId", ctx.hotel.clone()));
    follow_offsets(
        ctx,
        &url,
        &filter,
        PROFILE_PAGE_SIZE,
        "profiles",
        |body, before| {
            let summaries: wire::ProfileSummaries = parse(body, "profile search")?;
            let page = summaries.profile_summaries.unwrap_or_default();
            if before + page.profile_info.len() > MAX_SEARCH_PROFILES {
                return Err(invalid_request(format!(
                    "the guest search matches more than {MAX_SEARCH_PROFILES} OPERA profiles; narrow it"
                )));
            }
            Ok(Batch {
                records: page.profile_info.len(),
                items: page
                    .profile_info
                    .iter()
                    .filter_map(|p| {
                        wire::id_of(&p.profile_id_list, "Profile")
                            .or_else(|| p.profile_id_list.first().and_then(|i| i.id.as_deref()))
                            .map(str::to_string)
                    })
                    .collect(),
                more: page.paging.has_more.unwrap_or(false),
            })
        },
    )
}

fn query_filter(query: &GuestQuery) -> Vec<(&'static str, String)> {
    let mut filter = Vec::new();
    if let Some(email) = &query.email {
        filter.push(("email", email.clone()));
    }
    if let Some(phone) = &query.phone {
        filter.push(("phone", phone.clone()));
    }
    if let Some(name) = &query.name {
        // "Given Surname" searches both; a single word is a surname, as OPERA searches names.
        match name.trim().rsplit_once(' ') {
            Some((given, surname)) => {
                filter.push(("givenName", given.trim().to_string()));
                filter.push(("profileName", surname.trim().to_string()));
            }
            None => filter.push(("profileName", name.trim().to_string())),
        }
    }
    filter
}

fn search(ctx: &Ctx, query: &GuestQuery) -> Result<Vec<Guest>, PmsError> {
    let filter = query_filter(query);
    if filter.is_empty() {
        return Err(invalid_request(
            "a guest search needs an email, a phone or a name",
        ));
    }
    let mut guests = Vec::new();
    for id in profile_ids(ctx, &filter)? {
        guests.extend(profile(ctx, &id)?);
    }
    Ok(guests)
}

fn rooms(ctx: &Ctx, filter: &[(&str, String)]) -> Result<Vec<RoomStatus>, PmsError> {
    let url = ctx.hotel_url("hsk", "/housekeepingOverview");
    follow_offsets(ctx, &url, filter, PAGE_SIZE, "rooms", |body, _| {
        let board: wire::HousekeepingBoard = parse(body, "housekeeping board")?;
        let info = board.housekeeping_room_info.unwrap_or_default();
        let room_list = info.housekeeping_rooms.unwrap_or_default().room;
        Ok(Batch {
            records: room_list.len(),
            items: room_list
                .into_iter()
                .map(mapping::room_status)
                .collect::<Result<_, _>>()?,
            more: info.paging.has_more.unwrap_or(false),
        })
    })
}

fn receipt_from(body: &[u8]) -> WriteReceipt {
    // The answer's links or postings may name what OHIP made; a write with an unreadable answer
    // was still applied (2xx), so the receipt is best effort.
    let details: Option<wire::BillingChargesDetails> = serde_json::from_slice(body).ok();
    WriteReceipt {
        pms_reference: details
            .and_then(|d| d.postings.into_iter().find_map(|p| p.transaction_no))
            .map(|n| match n {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
    }
}

/// `putReservation` for one reservation with `changes` merged into its instruction.
fn put_reservation(
    ctx: &Ctx,
    operation_id: &str,
    reservation_id: &str,
    changes: serde_json::Value,
) -> Result<WriteReceipt, PmsError> {
    let mut instruction = serde_json::json!({
        "reservationIdList": [{ "id": reservation_id, "type": "Reservation" }],
        "hotelId": ctx.hotel,
    });
    if let (Some(target), serde_json::Value::Object(extra)) = (instruction.as_object_mut(), changes)
    {
        target.extend(extra);
    }
    let body = serde_json::json!({ "reservations": [instruction] });
    let request = ctx
        .request(
            Method::Put,
            ctx.hotel_url("rsv", &format!("/reservations/{}", encode(reservation_id))),
        )
        .header("x-request-id", request_id(operation_id))
        .json(&body)?;
    write(request)?;
    Ok(WriteReceipt {
        pms_reference: None,
    })
}

impl Adapter for Opera {
    const VENDOR: &'static str = "opera";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = EVERY_OPERATION;

    fn health_check() -> Result<HealthStatus, PmsError> {
        let ctx = Ctx::load()?;
        // One cheap, read-only request that needs the token, the app key and the hotel.
        let request = ctx
            .get(ctx.hotel_url("hsk", "/housekeepingOverview"))
            .query("limit", "1");
        let found = fetch(request)?;
        Ok(HealthStatus {
            healthy: true,
            detail: Some(format!(
                "OHIP answered for hotel {} ({})",
                ctx.hotel,
                if found.is_some() {
                    "rooms found"
                } else {
                    "no rooms"
                }
            )),
        })
    }

    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let ctx = Ctx::load()?;
        match identifier {
            GuestIdentifier::Id(id) => profile(&ctx, &id),
            GuestIdentifier::Email(email) => Ok(search(
                &ctx,
                &GuestQuery {
                    email: Some(email),
                    phone: None,
                    name: None,
                },
            )?
            .into_iter()
            .next()),
            GuestIdentifier::Phone(phone) => Ok(search(
                &ctx,
                &GuestQuery {
                    email: None,
                    phone: Some(phone),
                    name: None,
                },
            )?
            .into_iter()
            .next()),
            GuestIdentifier::ConfirmationNumber(number) => {
                let Some(info) = find_reservation(&ctx, &number)? else {
                    return Ok(None);
                };
                match info.reservation_guest.and_then(|g| g.id) {
                    Some(profile_id) => profile(&ctx, &profile_id),
                    None => Ok(None),
                }
            }
        }
    }

    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        search(&Ctx::load()?, &query)
    }

    fn update_guest_preferences(
        operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let ctx = Ctx::load()?;
        let url = format!(
            "{}/crm/v1/profiles/{}/preferences",
            ctx.base,
            encode(&guest_pms_id)
        );
        // OHIP adds preferences one group at a time and deletes them one by one: replacing is
        // "delete what is no longer wanted, add what is missing", which is idempotent.
        let current: wire::PreferenceDoc =
            match fetch(ctx.get(url.clone()).query("hotelId", &ctx.hotel))? {
                Some(body) => parse(&body, "preference list")?,
                None => wire::PreferenceDoc::default(),
            };
        let existing: Vec<(String, String)> = current
            .preference_collections
            .iter()
            .flat_map(|g| {
                let group = g.preference_type.clone().unwrap_or_default();
                g.preference.iter().filter_map(move |p| {
                    p.preference_code
                        .clone()
                        .or_else(|| p.preference_value.clone())
                        .map(|c| (group.clone(), c))
                })
            })
            .collect();
        let wanted = |group: &str, code: &str| {
            preferences
                .iter()
                .any(|p| p.category == group && p.code == code)
        };
        for (group, code) in &existing {
            if !wanted(group, code) {
                let request = ctx
                    .request(
                        Method::Delete,
                        format!(
                            "{}/crm/v1/profiles/{}/preferenceType/{}/preferences/{}",
                            ctx.base,
                            encode(&guest_pms_id),
                            encode(group),
                            encode(code)
                        ),
                    )
                    .header("x-request-id", request_id(&operation_id));
                match fetch(request) {
                    Ok(_) | Err(PmsError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let mut groups: Vec<wire::PreferenceGroup> = Vec::new();
        for p in &preferences {
            if existing
                .iter()
                .any(|(g, c)| *g == p.category && *c == p.code)
            {
                continue;
            }
            let entry = wire::PreferenceEntry {
                preference_code: Some(p.code.clone()),
                preference_value: Some(p.code.clone()),
                description: p.description.clone(),
                global: Some(false),
                hotels: vec![ctx.hotel.clone()],
            };
            match groups
                .iter_mut()
                .find(|g| g.preference_type.as_deref() == Some(p.category.as_str()))
            {
                Some(group) => group.preference.push(entry),
                None => groups.push(wire::PreferenceGroup {
                    preference: vec![entry],
                    preference_type: Some(p.category.clone()),
                }),
            }
        }
        if !groups.is_empty() {
            let body = wire::PreferenceDoc {
                preference_collections: groups,
                profile_id_list: vec![wire::IdRef {
                    id: Some(guest_pms_id.clone()),
                    kind: Some("Profile".into()),
                }],
            };
            write(
                ctx.request(Method::Post, url)
                    .header("x-request-id", request_id(&operation_id))
                    .json(&body)?,
            )?;
        }
        Ok(WriteReceipt {
            pms_reference: None,
        })
    }

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let ctx = Ctx::load()?;
        let Some(info) = find_reservation(&ctx, &confirmation_number)? else {
            return Ok(None);
        };
        let Some(id) = wire::id_of(&info.reservation_id_list, "Reservation") else {
            return Err(internal(format!(
                "OHIP sent reservation {confirmation_number} without its internal Reservation id"
            )));
        };
        full_reservation(&ctx, id)?
            .map(|r| mapping::reservation(r, ctx.zone))
            .transpose()
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let ctx = Ctx::load()?;
        let day = Date::parse(&date)?;
        // Split by departure: a stay arriving on `day` departs on it (day use) or after it.
        let windows = windows_around(day, day, day.add_days(STAY_SPAN_DAYS));
        let filter = [
            ("arrivalStartDate", day.to_string()),
            ("arrivalEndDate", day.to_string()),
        ];
        complete_search(&ctx, &filter, "departure", &windows).map(happening)
    }

    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let ctx = Ctx::load()?;
        let day = Date::parse(&date)?;
        // Split by arrival: a stay departing on `day` arrived on it or before it.
        let windows = windows_around(day, day.add_days(-STAY_SPAN_DAYS), day);
        let filter = [
            ("departureStartDate", day.to_string()),
            ("departureEndDate", day.to_string()),
        ];
        complete_search(&ctx, &filter, "arrival", &windows).map(happening)
    }

    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        let ctx = Ctx::load()?;
        // Split by departure around the hotel's today: in-house guests leave today or later
        // (or are overstaying a past departure date).
        let today = ctx.zone.today()?;
        let windows = windows_around(
            today,
            today.add_days(-STAY_SPAN_DAYS),
            today.add_days(STAY_SPAN_DAYS),
        );
        complete_search(
            &ctx,
            &[("searchType", "InHouse".to_string())],
            "departure",
            &windows,
        )
    }

    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        if note.trim().is_empty() {
            return Err(invalid_request("a note cannot be empty"));
        }
        let ctx = Ctx::load()?;
        let (id, _) = reservation_id(&ctx, &confirmation_number)?;
        // The schema's `comments` is an array of commentInfoType (Oracle's example wraps it in
        // `commentInfo`, contradicting the schema: the schema wins). The title carries the
        // operation id so that `find-write` can recognise the comment.
        let comment = wire::CommentInfo {
            comment: Some(wire::Comment {
                text: Some(wire::Text { value: Some(note) }),
                comment_title: Some(comment_title(&operation_id)),
                notification_location: Some("RESERVATION".into()),
                kind: Some("RESERVATION".into()),
                internal: Some(false),
                create_date_time: None,
            }),
        };
        put_reservation(
            &ctx,
            &operation_id,
            &id,
            serde_json::json!({ "comments": [comment] }),
        )
    }

    fn update_checkout_time(
        operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        let ctx = Ctx::load()?;
        let local = ctx.zone.to_local(&time)?;
        let (id, info) = reservation_id(&ctx, &confirmation_number)?;
        let departure = info
            .room_stay
            .as_ref()
            .and_then(|s| s.departure_date.as_deref())
            .unwrap_or_default();
        let local_date = time::date_of(local).format("%Y-%m-%d").to_string();
        if !departure.starts_with(&local_date) {
            // OHIP sets the expected time of the departure day only: for this input the vendor
            // cannot do it (another vendor could), so `unsupported`, not a bad request.
            return Err(PmsError::Unsupported(format!(
                "{time} is on {local_date} in the hotel's time zone, but reservation {confirmation_number} departs on {departure}; \
                 OHIP sets the time of the departure day only: change the departure date in OPERA first"
            )));
        }
        let times = wire::ExpectedTimes {
            reservation_expected_arrival_time: None,
            reservation_expected_departure_time: Some(time::format_ohip_local(local)),
        };
        put_reservation(
            &ctx,
            &operation_id,
            &id,
            serde_json::json!({ "roomStay": { "expectedTimes": times } }),
        )
    }

    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let ctx = Ctx::load()?;
        let amount = Amount::parse(&charge.amount.amount)?;
        if charge.amount.currency.len() != 3 {
            return Err(invalid_request(format!(
                "`{}` is not an ISO 4217 currency code",
                charge.amount.currency
            )));
        }
        let code = match charge.code.filter(|c| !c.trim().is_empty()) {
            Some(code) => code,
            None => config::require("chargeTransactionCode")?,
        };
        let (id, _) = reservation_id(&ctx, &confirmation_number)?;
        let remark: String = charge.description.chars().take(2000).collect();
        let body = serde_json::json!({
            "criteria": {
                "hotelId": ctx.hotel,
                "reservationId": { "id": id, "type": "Reservation" },
                "charges": [{
                    "transactionCode": code,
                    "price": { "amount": amount.to_f64(), "currencyCode": charge.amount.currency },
                    "postingQuantity": 1,
                    // OHIP keeps the reference on the posting: find-write looks for it.
                    "postingReference": operation_id,
                    "postingRemark": remark,
                }],
            }
        });
        let answer = write(
            ctx.request(
                Method::Post,
                ctx.hotel_url("csh", &format!("/reservations/{}/charges", encode(&id))),
            )
            .header("x-request-id", request_id(&operation_id))
            .json(&body)?,
        )?;
        Ok(receipt_from(&answer))
    }

    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let ctx = Ctx::load()?;
        let (id, info) = reservation_id(&ctx, &confirmation_number)?;
        let request = ctx
            .get(ctx.hotel_url("csh", &format!("/reservations/{}/folios", encode(&id))))
            .query("fetchInstructions", "Totalbalance");
        if let Some(body) = fetch(request)?
            && let Some(balance) = mapping::folio_balance(&body)?
        {
            return Ok(balance);
        }
        // No folio yet ("folios only exist once the guest has checked in"): the reservation's
        // own balance, as the search returned it.
        match info.room_stay.and_then(|s| s.balance) {
            Some(balance) => mapping::money(&balance),
            None => Err(PmsError::NotFound),
        }
    }

    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        let ctx = Ctx::load()?;
        let found = rooms(
            &ctx,
            &[
                ("fromRoomNumber", room_number.clone()),
                ("toRoomNumber", room_number.clone()),
            ],
        )?;
        Ok(found.into_iter().find(|r| r.room_number == room_number))
    }

    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        rooms(&Ctx::load()?, &[])
    }

    fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
        let ctx = Ctx::load()?;
        match target {
            WriteTarget::ReservationNote(number) => {
                let Some(info) = find_reservation(&ctx, &number)? else {
                    return Ok(WritePresence::Absent);
                };
                let Some(id) = wire::id_of(&info.reservation_id_list, "Reservation") else {
                    return Ok(WritePresence::Unknown);
                };
                let title = comment_title(&operation_id);
                let legacy = format!("{LEGACY_OPERATION_TITLE}{operation_id}");
                let found = full_reservation(&ctx, id)?.is_some_and(|r| {
                    r.comments.iter().any(|c| {
                        c.comment
                            .as_ref()
                            .and_then(|c| c.comment_title.as_deref())
                            .is_some_and(|t| t == title || t == legacy)
                    })
                });
                Ok(if found {
                    WritePresence::Applied
                } else {
                    WritePresence::Absent
                })
            }
            WriteTarget::Charge(number) => {
                let Some(info) = find_reservation(&ctx, &number)? else {
                    return Ok(WritePresence::Absent);
                };
                let Some(id) = wire::id_of(&info.reservation_id_list, "Reservation") else {
                    return Ok(WritePresence::Unknown);
                };
                let request = ctx
                    .get(ctx.hotel_url("csh", &format!("/reservations/{}/folios", encode(id))))
                    .query("fetchInstructions", "Postings");
                Ok(match fetch(request)? {
                    Some(body) if mapping::folio_has_posting(&body, &operation_id)? => {
                        WritePresence::Applied
                    }
                    _ => WritePresence::Absent,
                })
            }
            // Both writes set a state rather than add to one: sending them again leaves OPERA
            // exactly as one successful attempt would, so a resend is safe.
            WriteTarget::CheckoutTime(_) | WriteTarget::GuestPreferences(_) => {
                Ok(WritePresence::Absent)
            }
        }
    }
}

export_adapter!(Opera);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuids_and_stable_per_operation() {
        let uuid = |s: &str| {
            let parts: Vec<&str> = s.split('-').collect();
            parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
                && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
        };
        let id = request_id("op-0123456789abcdef0123456789ABCDEF");
        assert_eq!(id, "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(id, request_id("op-0123456789abcdef0123456789ABCDEF"));
        let conformance = request_id("conformance-5f0c8a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6");
        assert_eq!(conformance, "5f0c8a1e-2b3d-4c5e-8f90-a1b2c3d4e5f6");
        for odd in ["", "x", "op-12", "\u{0}\u{ffff}"] {
            assert!(uuid(&request_id(odd)), "{odd:?} -> {}", request_id(odd));
        }
    }

    #[test]
    fn windows_cover_every_day_once() {
        let near = Date::parse("2031-03-25").unwrap();
        let windows = windows_around(near, near.add_days(-400), near.add_days(400));
        let mut next = near.add_days(-400);
        for (from, to) in &windows {
            assert_eq!(*from, next, "contiguous");
            assert!(to.days_since_epoch() >= from.days_since_epoch());
            next = to.add_days(1);
        }
        assert_eq!(next, near.add_days(401), "to the last day");
        // Single days near the date, wider ones far from it.
        assert!(windows.iter().any(|(f, t)| *f == near && *t == near));
        assert!(windows.len() < 40, "{}", windows.len());
    }
}
