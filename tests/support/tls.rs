//! HTTPS for the vendor simulators: a certificate authority made once per test binary, a server
//! certificate it signs for the names the simulators answer to, and an axum server over
//! tokio-rustls. Every [`super::Stack`] trusts the CA through `egress.trustedCaFiles`, so the
//! host's https-only rule is exercised for real (no `allowLoopbackHttp` shortcut).

use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the server certificate covers: loopback, and the fixed hosts of manifests whose
/// `allowed_hosts` name a vendor's real API (the tests pin them to loopback with `egress.resolve`).
pub const SERVER_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "api.cloudbeds.com",
    "api.mews-demo.com",
    "api.mews.com",
    "api.apaleo.com",
    "identity.apaleo.com",
    "pms.jack.test",
];

/// The test CA and the server identity it signed.
pub struct TestPki {
    /// The CA certificate (PEM), what clients trust.
    pub ca_pem: String,
    /// `ca.pem` in a directory that lives as long as the test binary.
    pub ca_path: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
    _dir: tempfile::TempDir,
}

/// The per-binary PKI, made on first use.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "jack-pms test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca cert");

        let names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
        let mut server_params = rcgen::CertificateParams::new(names).expect("server params");
        server_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "jack-pms vendor simulator");
        server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = rcgen::KeyPair::generate().expect("server key");
        let server = server_params
            .signed_by(&server_key, &ca)
            .expect("server cert");

        let dir = tempfile::tempdir().expect("tempdir");
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, ca.pem()).expect("write ca.pem");
        TestPki {
            ca_pem: ca.pem(),
            ca_path,
            server_chain: vec![server.der().clone(), ca.der().clone()],
            server_key: server_key.serialize_der(),
            _dir: dir,
        }
    })
}

/// The CA file a host config should trust.
pub fn ca_path() -> &'static Path {
    &pki().ca_path
}

fn acceptor() -> TlsAcceptor {
    let pki = pki();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            pki.server_chain.clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone())),
        )
        .expect("server tls config");
    TlsAcceptor::from(Arc::new(config))
}

/// Serves `router` over HTTPS on an ephemeral loopback port, on the current tokio runtime, until
/// the runtime ends. Connections whose handshake fails are dropped quietly.
pub async fn serve_https(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind simulator");
    let addr = listener.local_addr().expect("simulator address");
    let acceptor = acceptor();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _peer)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    addr
}

/// A client that trusts the test CA (for a test's own calls to a simulator's admin routes).
pub fn client() -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(pki().ca_pem.as_bytes()).expect("ca pem");
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("tls client")
}
