//! The per-connection input record.

/// One remote-access connection as the analytics need it. `ueba-core` converts its own
/// connection rows into this borrowed view, so this crate does not depend on the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionFeaturesInput<'a> {
    /// The user who connected (the identity the baseline is kept for).
    pub user: &'a str,
    /// Source address of the client (IPv4, IPv6 or a host name).
    pub remote_address: &'a str,
    /// The target host connected to.
    pub target_host: &'a str,
    /// The account used on the target host, if known.
    pub target_host_account: Option<&'a str>,
    /// Protocol, e.g. `SSH`, `RDP`, `VNC`, `DB`, `WEB`.
    pub conn_type: &'a str,
    /// Connection start, milliseconds since the Unix epoch (UTC; hours of use are in UTC).
    pub connected_ms: i64,
    /// Duration in seconds, if known.
    pub duration_s: Option<f64>,
    /// Bytes received from the target, if known.
    pub bytes_in: Option<i64>,
    /// Bytes sent to the target, if known.
    pub bytes_out: Option<i64>,
    /// Whether the connection attempt failed.
    pub failed: bool,
    /// Authentication method, if known.
    pub authentication_method: Option<&'a str>,
}
