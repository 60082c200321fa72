//! OHIP's JSON shapes, as far as this adapter reads or writes them (Oracle's OpenAPI files in
//! `vendor-api/opera/`, definitions named in each type's doc). Every field is optional or
//! defaulted: OHIP leaves out what is empty, and an absent field must never become a trap.
//! Counts and amounts arrive as numbers or as strings (Oracle's own examples do both), so they
//! go through [`Lenient`] and `serde_json::Value`.

use serde::{Deserialize, Deserializer, Serialize};

/// A number OHIP may send as a JSON number or as a string (`"adultCount": "2"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lenient(pub Option<u64>);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lenient, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Float(f64),
            Text(String),
        }
        Ok(Lenient(match Option::<Raw>::deserialize(d)? {
            None => None,
            Some(Raw::Number(n)) => Some(n),
            Some(Raw::Float(f)) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 => Some(f as u64),
            Some(Raw::Float(f)) => {
                return Err(serde::de::Error::custom(format!("`{f}` is not a count")));
            }
            Some(Raw::Text(t)) => Some(
                t.trim()
                    .parse()
                    .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a count")))?,
            ),
        }))
    }
}

/// `uniqueID_Type`: an id and what it identifies (`Reservation`, `Confirmation`, `Profile`…).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IdRef {
    /// The id.
    #[serde(default)]
    pub id: Option<String>,
    /// What the id identifies.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// The id of `kind` in `ids`, when present.
pub fn id_of<'a>(ids: &'a [IdRef], kind: &str) -> Option<&'a str> {
    ids.iter()
        .find(|i| {
            i.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(kind))
        })
        .and_then(|i| i.id.as_deref())
}

/// `exceptionDetailType`: OHIP's error body (RFC 7807 style).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExceptionDetail {
    /// Problem type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Detail.
    #[serde(default)]
    pub detail: Option<String>,
    /// OHIP's application error code (`RSV00001`).
    #[serde(rename = "o:errorCode", default)]
    pub error_code: Option<String>,
}

/// Paging fields shared by OHIP's list envelopes.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// More records after this page.
    #[serde(default)]
    pub has_more: Option<bool>,
    /// Matching records (OHIP stops counting at 1,000).
    #[serde(default)]
    pub total_results: Lenient,
}

/// `currencyAmountType`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyAmount {
    /// Amount: a number, or a decimal string in some examples.
    #[serde(default)]
    pub amount: Option<serde_json::Value>,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency_code: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reservations (rsv/v1)

/// `reservationsDetails` (getHotelReservations).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationsDetails {
    /// The page.
    #[serde(default)]
    pub reservations: Option<ReservationInfoPage>,
}

/// The `reservations` object of `reservationsDetails`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationInfoPage {
    /// Reservations of this page.
    #[serde(default)]
    pub reservation_info: Vec<ReservationInfo>,
    /// Paging.
    #[serde(flatten)]
    pub paging: Paging,
}

/// `reservationInfoType`: one reservation as lists show it (no comments).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationInfo {
    /// Internal id, confirmation number…
    #[serde(default)]
    pub reservation_id_list: Vec<IdRef>,
    /// Dates, room, counts.
    #[serde(default)]
    pub room_stay: Option<StayInfo>,
    /// The main guest.
    #[serde(default)]
    pub reservation_guest: Option<ResGuestInfo>,
    /// `pMS_ResStatusType`.
    #[serde(default)]
    pub reservation_status: Option<String>,
    /// `pMS_ResStatusType`, as OPERA computes it for the business date.
    #[serde(default)]
    pub computed_reservation_status: Option<String>,
}

/// `stayInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StayInfo {
    /// Arrival date.
    #[serde(default)]
    pub arrival_date: Option<String>,
    /// Departure date.
    #[serde(default)]
    pub departure_date: Option<String>,
    /// Expected arrival and departure times.
    #[serde(default)]
    pub expected_times: Option<ExpectedTimes>,
    /// Adults.
    #[serde(default)]
    pub adult_count: Lenient,
    /// Children.
    #[serde(default)]
    pub child_count: Lenient,
    /// Room type code.
    #[serde(default)]
    pub room_type: Option<String>,
    /// Room number.
    #[serde(default)]
    pub room_id: Option<String>,
    /// Open balance.
    #[serde(default)]
    pub balance: Option<CurrencyAmount>,
}

/// `resExpectedTimesType`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedTimes {
    /// Expected arrival (hotel-local wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_expected_arrival_time: Option<String>,
    /// Expected departure (hotel-local wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_expected_departure_time: Option<String>,
}

/// `resGuestInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResGuestInfo {
    /// Profile id.
    #[serde(default)]
    pub id: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// Display name.
    #[serde(default)]
    pub full_name: Option<String>,
}

/// `reservation` (getReservation).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationEnvelope {
    /// The reservations.
    #[serde(default)]
    pub reservations: Option<HotelReservations>,
}

/// `hotelReservationsType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelReservations {
    /// Reservations.
    #[serde(default)]
    pub reservation: Vec<HotelReservation>,
}

/// `hotelReservationType`: one reservation in full.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelReservation {
    /// Internal id, confirmation number…
    #[serde(default)]
    pub reservation_id_list: Vec<IdRef>,
    /// Dates, room, counts.
    #[serde(default)]
    pub room_stay: Option<RoomStay>,
    /// Guests; the one marked `primary` is the main guest.
    #[serde(default)]
    pub reservation_guests: Vec<ResGuest>,
    /// Comments.
    #[serde(default)]
    pub comments: Vec<CommentInfo>,
    /// `pMS_ResStatusType`.
    #[serde(default)]
    pub reservation_status: Option<String>,
    /// `pMS_ResStatusType`, as OPERA computes it for the business date.
    #[serde(default)]
    pub computed_reservation_status: Option<String>,
}

/// `roomStayType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomStay {
    /// Arrival date.
    #[serde(default)]
    pub arrival_date: Option<String>,
    /// Departure date.
    #[serde(default)]
    pub departure_date: Option<String>,
    /// Expected arrival and departure times.
    #[serde(default)]
    pub expected_times: Option<ExpectedTimes>,
    /// Guest counts.
    #[serde(default)]
    pub guest_counts: Option<GuestCounts>,
    /// Room and room type.
    #[serde(default)]
    pub current_room_info: Option<CurrentRoomInfo>,
}

/// `guestCountsType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestCounts {
    /// Adults.
    #[serde(default)]
    pub adults: Lenient,
    /// Children.
    #[serde(default)]
    pub children: Lenient,
}

/// `currentRoomInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentRoomInfo {
    /// Room type code.
    #[serde(default)]
    pub room_type: Option<String>,
    /// Room number.
    #[serde(default)]
    pub room_id: Option<String>,
}

/// `resGuestType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResGuest {
    /// The guest's profile.
    #[serde(default)]
    pub profile_info: Option<ResProfileInfo>,
    /// The main guest.
    #[serde(default)]
    pub primary: Option<bool>,
}

/// The `profileInfo` of `resGuestType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResProfileInfo {
    /// Profile ids.
    #[serde(default)]
    pub profile_id_list: Vec<IdRef>,
    /// Profile details (names).
    #[serde(default)]
    pub profile: Option<ProfileDetails>,
}

/// `commentInfoType`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentInfo {
    /// The comment.
    #[serde(default)]
    pub comment: Option<Comment>,
}

/// `commentType`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// The text.
    #[serde(default)]
    pub text: Option<Text>,
    /// Title; Jack's writes carry `jack:<operation id>` here for `find-write`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_title: Option<String>,
    /// Where OPERA shows the comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_location: Option<String>,
    /// Comment type (`RESERVATION`, `CASHIER`…).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Internal (not shown to the guest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date_time: Option<String>,
}

/// `formattedTextTextType`.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Text {
    /// The text.
    #[serde(default)]
    pub value: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Profiles (crm/v1)

/// `profile` (getProfile).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileEnvelope {
    /// Profile ids.
    #[serde(default)]
    pub profile_id_list: Vec<IdRef>,
    /// The profile.
    #[serde(default)]
    pub profile_details: Option<ProfileDetails>,
}

/// `profileType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDetails {
    /// The person.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// E-mail addresses.
    #[serde(default)]
    pub emails: Option<Emails>,
    /// Phone numbers.
    #[serde(default)]
    pub telephones: Option<Telephones>,
    /// Memberships.
    #[serde(default)]
    pub profile_memberships: Option<Memberships>,
    /// Preferences.
    #[serde(default)]
    pub preference_collection: Option<PreferenceCollection>,
}

/// `customerType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Names; the `Primary` one is the guest's name.
    #[serde(default)]
    pub person_name: Vec<PersonName>,
    /// Language code.
    #[serde(default)]
    pub language: Option<String>,
    /// VIP code, when the guest is a VIP.
    #[serde(default)]
    pub vip_status: Option<String>,
}

/// `personNameType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonName {
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// `Primary`, `Alternate`…
    #[serde(default)]
    pub name_type: Option<String>,
}

/// The `emails` object of `profileType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emails {
    /// Entries.
    #[serde(default)]
    pub email_info: Vec<EmailInfo>,
}

/// `emailInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailInfo {
    /// The address.
    #[serde(default)]
    pub email: Option<Email>,
}

/// `emailType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    /// Address.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Primary flag.
    #[serde(default)]
    pub primary_ind: Option<bool>,
}

/// The `telephones` object of `profileType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Telephones {
    /// Entries.
    #[serde(default)]
    pub telephone_info: Vec<TelephoneInfo>,
}

/// `telephoneInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelephoneInfo {
    /// The number.
    #[serde(default)]
    pub telephone: Option<Telephone>,
}

/// `telephoneType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Telephone {
    /// Number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Primary flag.
    #[serde(default)]
    pub primary_ind: Option<bool>,
}

/// The `profileMemberships` object of `profileType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memberships {
    /// Entries.
    #[serde(default)]
    pub profile_membership: Vec<Membership>,
}

/// `profileMembershipType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// Level (`GOLD`).
    #[serde(default)]
    pub membership_level: Option<String>,
}

/// The `preferenceCollection` object of `profileType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceCollection {
    /// Groups.
    #[serde(default)]
    pub preference_type: Vec<PreferenceGroup>,
}

/// `preferenceTypeType`: one preference group.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceGroup {
    /// Preferences.
    #[serde(default)]
    pub preference: Vec<PreferenceEntry>,
    /// Group code.
    #[serde(default)]
    pub preference_type: Option<String>,
}

/// `preferenceType`: one preference.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceEntry {
    /// Code.
    #[serde(default)]
    pub preference_code: Option<String>,
    /// Value (OHIP often repeats the code here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference_value: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Applies to every hotel of the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<bool>,
    /// Hotels it applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hotels: Vec<String>,
}

/// `preference` (getPreferenceForProfile, and the body of postPreference).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceDoc {
    /// Groups.
    #[serde(default)]
    pub preference_collections: Vec<PreferenceGroup>,
    /// The profile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_id_list: Vec<IdRef>,
}

/// `profileSummaries` (getProfiles).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummaries {
    /// The page.
    #[serde(default)]
    pub profile_summaries: Option<ProfileSummaryPage>,
}

/// `profileSummariesType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummaryPage {
    /// Matches.
    #[serde(default)]
    pub profile_info: Vec<ProfileSummaryInfo>,
    /// Paging.
    #[serde(flatten)]
    pub paging: Paging,
}

/// `profileSummaryInfoType`: ids only are used (the summary has no name).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummaryInfo {
    /// Profile ids.
    #[serde(default)]
    pub profile_id_list: Vec<IdRef>,
}

// ---------------------------------------------------------------------------------------------
// Cashiering (csh/v1)

/// `folio` (getFolio).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolioEnvelope {
    /// The folio information.
    #[serde(default)]
    pub reservation_folio_information: Option<ReservationFolioInformation>,
}

/// `reservationFolioInfoType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationFolioInformation {
    /// Reservation-level totals.
    #[serde(default)]
    pub reservation_info: Option<FolioReservationInfo>,
    /// Folio windows.
    #[serde(default)]
    pub folio_windows: Vec<FolioWindow>,
}

/// The `reservationInfo` of a folio.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolioReservationInfo {
    /// Revenues and balance.
    #[serde(default)]
    pub revenues_and_balances: Option<RevenuesAndBalances>,
}

/// `resRevenueBalanceType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenuesAndBalances {
    /// Balance of the whole reservation.
    #[serde(default)]
    pub balance: Option<CurrencyAmount>,
}

/// `folioWindowType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolioWindow {
    /// Window balance.
    #[serde(default)]
    pub balance: Option<CurrencyAmount>,
    /// Folios with their postings.
    #[serde(default)]
    pub folios: Vec<Folio>,
}

/// `folioType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Folio {
    /// Postings.
    #[serde(default)]
    pub postings: Vec<Posting>,
}

/// `summaryPostingType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    /// The `postingReference` the charge was posted with.
    #[serde(default)]
    pub reference: Option<String>,
    /// Transaction number.
    #[serde(default)]
    pub transaction_no: Option<serde_json::Value>,
}

/// `billingChargesDetails` (postBillingCharges 201).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingChargesDetails {
    /// Postings made.
    #[serde(default)]
    pub postings: Vec<Posting>,
}

// ---------------------------------------------------------------------------------------------
// Housekeeping (hsk/v1)

/// `housekeepingBoard` (getHousekeepingOverview).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HousekeepingBoard {
    /// Rooms and paging.
    #[serde(default)]
    pub housekeeping_room_info: Option<HousekeepingRoomInfo>,
}

/// The `housekeepingRoomInfo` of `housekeepingBoard`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HousekeepingRoomInfo {
    /// Rooms.
    #[serde(default)]
    pub housekeeping_rooms: Option<HousekeepingRooms>,
    /// Paging.
    #[serde(flatten)]
    pub paging: Paging,
}

/// `hotelRoomsType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HousekeepingRooms {
    /// Rooms.
    #[serde(default)]
    pub room: Vec<HousekeepingRoom>,
}

/// `roomType` of the housekeeping board.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HousekeepingRoom {
    /// Room number.
    #[serde(default)]
    pub room_id: Option<String>,
    /// Its housekeeping state.
    #[serde(default)]
    pub housekeeping: Option<RoomHousekeeping>,
}

/// `housekeepingType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomHousekeeping {
    /// Statuses.
    #[serde(default)]
    pub housekeeping_room_status: Option<RoomStatusInfo>,
}

/// `roomStatusType`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomStatusInfo {
    /// `housekeepingRoomStatusType`.
    #[serde(default)]
    pub housekeeping_room_status: Option<String>,
    /// `frontOfficeRoomStatusType`: Vacant or Occupied.
    #[serde(default)]
    pub front_office_status: Option<String>,
}
