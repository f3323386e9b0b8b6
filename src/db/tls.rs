//! TLS pieces both server drivers share: reading the URL's TLS options strictly, and the
//! rustls client configuration for PostgreSQL.
//!
//! Why strict: an operator who writes `sslmode=verify-full` or `ssl_ca=...` must get what
//! was asked or an error naming the option, never a clear-text or unverified session. So
//! every option is either honoured exactly or refused.

use anyhow::{anyhow, bail, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::path::Path;
use std::sync::Arc;

/// A boolean URL option as SQLAlchemy reads one (`true/false`, `yes/no`, `on/off`, `1/0`).
pub(crate) fn boolean(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "y" | "t" | "1" => Ok(true),
        "false" | "no" | "off" | "n" | "f" | "0" => Ok(false),
        _ => bail!("{key}={value}: expected true or false"),
    }
}

/// A file an option names, checked now so that the error names the option.
pub(crate) fn readable_file(key: &str, path: &str) -> Result<()> {
    readable(&format!("{key}={path}"), path)
}

/// A file an option names; `shown` names the option in the error (`ssl_ca=/x`, or where
/// an option file gave it).
pub(crate) fn readable(shown: &str, path: &str) -> Result<()> {
    std::fs::metadata(path)
        .map_err(|e| anyhow!("{shown}: cannot read the file: {e}"))
        .and_then(|m| {
            if m.is_file() {
                Ok(())
            } else {
                Err(anyhow!("{shown}: not a file"))
            }
        })
}

/// How the server's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Encrypted, but any certificate is accepted (libpq `require` with no root cert).
    Nothing,
    /// The chain must lead to one of these CAs (PEM file); any host name.
    Chain(String),
    /// The chain must lead to one of these CAs and the certificate must name the host.
    Full(String),
}

/// The client certificate and its key (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub cert: String,
    pub key: String,
}

/// One process-wide crypto provider: ring (no C toolchain beyond cc, no aws-lc).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(file: &str) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(file)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow!("{file}: cannot read the CA certificates: {e}"))?;
    if certs.is_empty() {
        bail!("{file}: no PEM certificate in it");
    }
    for c in certs {
        store
            .add(c)
            .map_err(|e| anyhow!("{file}: unusable CA certificate: {e}"))?;
    }
    Ok(store)
}

/// The rustls configuration for `verify` and an optional client certificate.
pub(crate) fn client_config(
    verify: &Verify,
    identity: Option<&Identity>,
    tls13_only: bool,
) -> Result<ClientConfig> {
    let provider = provider();
    let versions: &[&rustls::SupportedProtocolVersion] = if tls13_only {
        &[&rustls::version::TLS13]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Nothing => Arc::new(AnyCertificate(provider.clone())),
        Verify::Chain(file) | Verify::Full(file) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(file)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| anyhow!("{file}: {e}"))?;
            if matches!(verify, Verify::Chain(_)) {
                Arc::new(ChainOnly(webpki))
            } else {
                webpki
            }
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .context("TLS protocol versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    Ok(match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = CertificateDer::pem_file_iter(&id.cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| anyhow!("{}: cannot read the client certificate: {e}", id.cert))?;
            if chain.is_empty() {
                bail!("{}: no PEM certificate in it", id.cert);
            }
            // The key's contents never appear in a message, only its file name.
            let key = PrivateKeyDer::from_pem_file(&id.key)
                .map_err(|_| anyhow!("{}: no usable PEM private key in it", id.key))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| anyhow!("the client certificate {} and its key: {e}", id.cert))?
        }
    })
}

/// Checks the chain and ignores the host name (libpq `verify-ca`). rustls checks the
/// chain before the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any certificate (libpq `require`/`prefer` without a root certificate): the
/// session is encrypted against eavesdroppers, not against an active man in the middle.
/// The handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// libpq's default file under `~/.postgresql/`, if it exists.
pub(crate) fn libpq_default_file(name: &str) -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join(name);
    path.is_file().then(|| path.display().to_string())
}
