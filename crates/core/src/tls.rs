//! The listener's local TLS material: a CA generated on this machine and a server certificate it
//! signed for the loopback names. Clients that take a CA certificate (the PrivX SDKs do) trust the
//! exported CA and connect without turning verification off.
//!
//! The CA is made once and kept in the database, so an exported CA stays valid; the server
//! certificate is re-issued by the same CA when it must cover another name or nears its end.

use std::path::Path;

use chrono::{Datelike, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rusqlite::OptionalExtension;

use crate::export::write_atomically;
use crate::store::{Store, StoreError};

/// Names every server certificate covers.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Common name of the local CA.
const CA_COMMON_NAME: &str = "UEBA Workbench local CA";
/// Years the CA is valid.
const CA_YEARS: i32 = 10;
/// Years a server certificate is valid; it is re-issued when less than a month remains.
const SERVER_YEARS: i32 = 1;
const REISSUE_BEFORE_MS: i64 = 30 * 24 * 3600 * 1000;

/// What can go wrong with the TLS material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate the TLS certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// The stored material is damaged.
    #[error(
        "the stored TLS material is unusable ({0}); delete it with `ueba-workbench tls reset`"
    )]
    Damaged(String),
    /// The exported file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The target file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TlsError {
    fn from(e: rusqlite::Error) -> Self {
        TlsError::Store(StoreError::Sqlite(e))
    }
}

/// The certificates and key a TLS server needs (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMaterial {
    /// The local CA certificate, to hand to clients.
    pub ca_cert_pem: String,
    /// The server certificate.
    pub server_cert_pem: String,
    /// The server's private key.
    pub server_key_pem: String,
    /// The DNS names and IP addresses the server certificate covers.
    pub server_names: Vec<String>,
}

struct Stored {
    material: ServerMaterial,
    ca_key_pem: String,
    created: i64,
}

fn load(store: &Store) -> Result<Option<Stored>, TlsError> {
    store.read(|c| {
        c.query_row(
            "SELECT ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem, server_names, created
             FROM tls_material WHERE id = 1",
            [],
            |r| {
                let names: String = r.get(4)?;
                Ok(Stored {
                    material: ServerMaterial {
                        ca_cert_pem: r.get(0)?,
                        server_cert_pem: r.get(2)?,
                        server_key_pem: r.get(3)?,
                        server_names: serde_json::from_str(&names).unwrap_or_default(),
                    },
                    ca_key_pem: r.get(1)?,
                    created: r.get(5)?,
                })
            },
        )
        .optional()
        .map_err(TlsError::from)
    })
}

/// Valid from today for `years` years (day clamped to 28 so every month has it).
fn set_validity(params: &mut CertificateParams, years: i32) {
    let now = Utc::now();
    let (month, day) = (now.month() as u8, now.day().min(28) as u8);
    params.not_before = rcgen::date_time_ymd(now.year(), month, day);
    params.not_after = rcgen::date_time_ymd(now.year() + years, month, day);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_COMMON_NAME);
    dn.push(DnType::OrganizationName, "UEBA Workbench");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn issue_server(ca_key: &KeyPair, names: &[String]) -> Result<(String, String), TlsError> {
    let issuer = Issuer::new(ca_params(), ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "UEBA Workbench listener");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, SERVER_YEARS);
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// The TLS material for a server reachable under `extra_names` besides the loopback names,
/// creating the CA on first use and re-issuing the server certificate when it does not cover a
/// name or is about to expire. The CA never changes once made.
pub fn ensure(store: &Store, extra_names: &[String]) -> Result<ServerMaterial, TlsError> {
    let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect();
    for n in extra_names {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let now = Utc::now().timestamp_millis();
    let server_lifetime_ms = i64::from(SERVER_YEARS) * 365 * 24 * 3600 * 1000;
    if let Some(stored) = load(store)? {
        let covers = names
            .iter()
            .all(|n| stored.material.server_names.contains(n));
        let fresh = now - stored.created < server_lifetime_ms - REISSUE_BEFORE_MS;
        if covers && fresh {
            return Ok(stored.material);
        }
        let ca_key = KeyPair::from_pem(&stored.ca_key_pem)
            .map_err(|e| TlsError::Damaged(format!("CA key: {e}")))?;
        let mut all = stored.material.server_names.clone();
        for n in names {
            if !all.contains(&n) {
                all.push(n);
            }
        }
        let (server_cert_pem, server_key_pem) = issue_server(&ca_key, &all)?;
        let material = ServerMaterial {
            ca_cert_pem: stored.material.ca_cert_pem,
            server_cert_pem,
            server_key_pem,
            server_names: all,
        };
        save(store, &material, &stored.ca_key_pem, now)?;
        return Ok(material);
    }
    let ca_key = KeyPair::generate()?;
    let mut params = ca_params();
    set_validity(&mut params, CA_YEARS);
    let ca_cert = params.self_signed(&ca_key)?;
    let (server_cert_pem, server_key_pem) = issue_server(&ca_key, &names)?;
    let material = ServerMaterial {
        ca_cert_pem: ca_cert.pem(),
        server_cert_pem,
        server_key_pem,
        server_names: names,
    };
    save(store, &material, &ca_key.serialize_pem(), now)?;
    Ok(material)
}

fn save(
    store: &Store,
    material: &ServerMaterial,
    ca_key_pem: &str,
    created: i64,
) -> Result<(), TlsError> {
    let names = serde_json::to_string(&material.server_names).unwrap_or_else(|_| "[]".into());
    store.write(|c| {
        c.execute(
            "INSERT INTO tls_material
                 (id, ca_cert_pem, ca_key_pem, server_cert_pem, server_key_pem, server_names, created)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET
                 ca_cert_pem = excluded.ca_cert_pem, ca_key_pem = excluded.ca_key_pem,
                 server_cert_pem = excluded.server_cert_pem,
                 server_key_pem = excluded.server_key_pem,
                 server_names = excluded.server_names, created = excluded.created",
            rusqlite::params![
                material.ca_cert_pem,
                ca_key_pem,
                material.server_cert_pem,
                material.server_key_pem,
                names,
                created
            ],
        )?;
        Ok(())
    })
}

/// The local CA certificate (PEM), creating it if needed.
pub fn ca_certificate(store: &Store) -> Result<String, TlsError> {
    Ok(ensure(store, &[])?.ca_cert_pem)
}

/// Writes the local CA certificate (PEM) to `path`, atomically. Returns the PEM.
pub fn export_ca(store: &Store, path: &Path) -> Result<String, TlsError> {
    let pem = ca_certificate(store)?;
    write_atomically(
        path,
        |source| TlsError::Write {
            path: path.to_owned(),
            source,
        },
        |w| {
            std::io::Write::write_all(w, pem.as_bytes()).map_err(|source| TlsError::Write {
                path: path.to_owned(),
                source,
            })
        },
    )?;
    Ok(pem)
}

/// Forgets the TLS material; the next TLS start makes a new CA (clients must import it again).
pub fn reset(store: &Store) -> Result<(), TlsError> {
    store.write(|c| {
        c.execute("DELETE FROM tls_material", [])?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("w.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn the_ca_is_made_once_and_kept() {
        let (_dir, store) = store();
        let first = ensure(&store, &[]).expect("material");
        assert!(first.ca_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(first.server_key_pem.contains("PRIVATE KEY"));
        let again = ensure(&store, &[]).expect("material");
        assert_eq!(first, again);
    }

    #[test]
    fn a_new_name_reissues_the_server_certificate_under_the_same_ca() {
        let (_dir, store) = store();
        let first = ensure(&store, &[]).expect("material");
        let wider = ensure(&store, &["192.0.2.7".to_owned()]).expect("material");
        assert_eq!(first.ca_cert_pem, wider.ca_cert_pem);
        assert_ne!(first.server_cert_pem, wider.server_cert_pem);
        assert!(wider.server_names.contains(&"192.0.2.7".to_owned()));
        assert!(wider.server_names.contains(&"localhost".to_owned()));
    }

    #[test]
    fn export_writes_the_ca_pem() {
        let (dir, store) = store();
        let path = dir.path().join("ca.pem");
        let pem = export_ca(&store, &path).expect("export");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), pem);
    }
}
