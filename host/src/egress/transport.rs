//! The last step of the pipeline: putting a checked request on the wire.

use super::address::{AddressRefused, PolicyResolver};
use super::{EgressError, Method, Policy};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use url::Url;

/// A request that passed every policy check, credentials included.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// Method.
    pub method: Method,
    /// URL.
    pub url: Url,
    /// Headers (guest headers and host credentials).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// Body size cap.
    pub max_response_bytes: u64,
}

/// A response before scrubbing.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status.
    pub status: u16,
    /// Headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Body, at most the cap.
    pub body: Vec<u8>,
}

/// Sends prepared requests. Production uses [`ReqwestTransport`]; tests and benchmarks may
/// answer in-process.
pub trait Transport: Send + Sync + 'static {
    /// Sends one request (no redirect handling: the pipeline does that).
    fn send(
        &self,
        request: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>>;
}

/// reqwest with rustls (TLS 1.2 or newer), redirects off, and the address-policy resolver.
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Builds the client for `policy`.
    pub fn new(policy: &Policy) -> Result<ReqwestTransport, EgressError> {
        let mut builder = reqwest::Client::builder();
        for pem in &policy.trusted_ca_pems {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                EgressError::Connection(format!("a trusted CA file is not PEM: {e}"))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .use_rustls_tls()
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .https_only(false) // http is checked per URL by the pipeline (loopback only).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(policy.request_timeout)
            .connect_timeout(policy.request_timeout)
            .dns_resolver(Arc::new(PolicyResolver {
                policy: policy.addresses(),
                fixed: Arc::new(policy.resolve.clone()),
            }))
            .no_proxy()
            .user_agent(concat!("jack-pms/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EgressError::Connection(format!("cannot build the HTTP client: {e}")))?;
        Ok(ReqwestTransport { client })
    }
}

impl Transport for ReqwestTransport {
    fn send(
        &self,
        request: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        Box::pin(send_with(&self.client, request))
    }
}

/// Sends `request` with `client` and reads the answer up to the request's size cap. Also used by
/// the conformance suite, whose client forwards to the PMS under test.
pub async fn send_with(
    client: &reqwest::Client,
    request: PreparedRequest,
) -> Result<RawResponse, EgressError> {
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
        .map_err(|e| EgressError::InvalidRequest(e.to_string()))?;
    let mut builder = client.request(method, request.url);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(map_error)?;
    let cap = request.max_response_bytes;
    if response.content_length().is_some_and(|len| len > cap) {
        return Err(EgressError::ResponseTooLarge(cap));
    }
    let status = response.status().as_u16();
    // The client asks only for encodings it decodes itself (gzip, deflate) and never for ranges;
    // anything else would reach the scrubber in a form it cannot read.
    if let Some(encoding) = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|e| !e.is_empty() && e != "identity")
    {
        return Err(EgressError::Connection(format!(
            "the PMS answered with content-encoding `{}`, which the host did not ask for",
            crate::untrusted::escape(&encoding, 64)
        )));
    }
    if status == 206
        || response
            .headers()
            .contains_key(reqwest::header::CONTENT_RANGE)
    {
        return Err(EgressError::Connection(
            "the PMS answered with a partial response (206 or content-range), which the host did not ask for".into(),
        ));
    }
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(map_error)? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(EgressError::ResponseTooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn map_error(error: reqwest::Error) -> EgressError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<AddressRefused>() {
            return EgressError::ForbiddenDestination(refused.to_string());
        }
        source = e.source();
    }
    if error.is_timeout() {
        return EgressError::Timeout;
    }
    // The chain without the URL: reqwest puts the URL first, and its query could be sensitive.
    let mut message = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(e) = source {
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&e.to_string());
        source = e.source();
    }
    if message.is_empty() {
        message = error.without_url().to_string();
    }
    EgressError::Connection(message)
}
