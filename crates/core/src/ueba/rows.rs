//! Connections loaded for training and scoring, in a compact form.
//!
//! A million connections repeat a few hundred users, hosts, addresses and accounts, so every
//! text is stored once (interned) and each row holds small indexes. The analytics crate gets
//! borrowed [`ConnectionFeaturesInput`] views over it.

use rusqlite::types::ValueRef;
use rustc_hash::FxHashMap;
use ueba_analytics::ConnectionFeaturesInput;

use crate::model::Connection;

/// Marks an absent optional text.
const NONE: u32 = u32::MAX;

/// Each distinct text once.
#[derive(Debug, Default)]
struct Interner {
    index: FxHashMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&i) = self.index.get(text) {
            return i;
        }
        let i = self.texts.len() as u32;
        self.texts.push(text.into());
        self.index.insert(text.into(), i);
        i
    }

    fn intern_opt(&mut self, text: Option<&str>) -> u32 {
        text.map_or(NONE, |t| self.intern(t))
    }

    fn get(&self, i: u32) -> &str {
        &self.texts[i as usize]
    }

    fn get_opt(&self, i: u32) -> Option<&str> {
        (i != NONE).then(|| self.get(i))
    }
}

/// One connection's features-relevant fields.
#[derive(Debug, Clone, Copy)]
struct Row {
    user: u32,
    remote_address: u32,
    target_host: u32,
    account: u32,
    conn_type: u32,
    auth: u32,
    label: u32,
    failed: bool,
    connected: i64,
    duration: Option<f64>,
    bytes_in: Option<i64>,
    bytes_out: Option<i64>,
}

/// Connections held for the analytics, with their ids and labels.
#[derive(Debug, Default)]
pub struct FeatureRows {
    strings: Interner,
    rows: Vec<Row>,
    ids: Vec<Box<str>>,
    /// Training needs no ids; a million of them would only take memory.
    skip_ids: bool,
}

/// The columns [`FeatureRows::push_sql_row`] expects, in order.
pub const FEATURE_COLUMNS: &str =
    "id, user, remote_address, target_host, target_host_account, type, \
     authentication_method, status, connected, duration, bytes_in, bytes_out, label";

fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

/// Labels name the planted scenario; empty or `normal` is ordinary traffic.
fn is_attack_label(label: &str) -> bool {
    !label.is_empty() && !label.eq_ignore_ascii_case("normal")
}

fn is_failed(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case("FAILED"))
}

impl FeatureRows {
    /// An empty set with room for `capacity` rows.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            rows: Vec::with_capacity(capacity),
            ids: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    /// An empty set that does not keep connection ids ([`FeatureRows::id`] is then empty).
    pub fn without_ids(capacity: usize) -> Self {
        Self {
            rows: Vec::with_capacity(capacity),
            skip_ids: true,
            ..Self::default()
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Drops the rows but keeps the interned texts (for the next chunk of a scan).
    pub fn clear_rows(&mut self) {
        self.rows.clear();
        self.ids.clear();
    }

    /// Adds a row selected with [`FEATURE_COLUMNS`].
    pub fn push_sql_row(&mut self, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        let s = &mut self.strings;
        let row = Row {
            user: s.intern(text(r.get_ref(1)?).unwrap_or_default()),
            remote_address: s.intern(text(r.get_ref(2)?).unwrap_or_default()),
            target_host: s.intern(text(r.get_ref(3)?).unwrap_or_default()),
            account: s.intern_opt(text(r.get_ref(4)?)),
            conn_type: s.intern(text(r.get_ref(5)?).unwrap_or_default()),
            auth: s.intern_opt(text(r.get_ref(6)?)),
            failed: is_failed(text(r.get_ref(7)?)),
            connected: r.get(8)?,
            duration: r.get(9)?,
            bytes_in: r.get(10)?,
            bytes_out: r.get(11)?,
            label: s.intern_opt(text(r.get_ref(12)?).filter(|l| is_attack_label(l))),
        };
        if !self.skip_ids {
            self.ids
                .push(text(r.get_ref(0)?).unwrap_or_default().into());
        }
        self.rows.push(row);
        Ok(())
    }

    /// Adds a parsed connection (from a file scored without storing it).
    pub fn push_connection(&mut self, c: &Connection) {
        let s = &mut self.strings;
        let row = Row {
            user: s.intern(&c.user),
            remote_address: s.intern(&c.remote_address),
            target_host: s.intern(&c.target_host),
            account: s.intern_opt(c.target_host_account.as_deref()),
            conn_type: s.intern(&c.conn_type),
            auth: s.intern_opt(c.authentication_method.as_deref()),
            failed: is_failed(c.status.as_deref()),
            connected: c.connected,
            duration: c.duration,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            label: s.intern_opt(c.label.as_deref().filter(|l| is_attack_label(l))),
        };
        if !self.skip_ids {
            self.ids.push(c.id.as_str().into());
        }
        self.rows.push(row);
    }

    /// The analytics' view of every row.
    pub fn inputs(&self) -> Vec<ConnectionFeaturesInput<'_>> {
        let s = &self.strings;
        self.rows
            .iter()
            .map(|r| ConnectionFeaturesInput {
                user: s.get(r.user),
                remote_address: s.get(r.remote_address),
                target_host: s.get(r.target_host),
                target_host_account: s.get_opt(r.account),
                conn_type: s.get(r.conn_type),
                connected_ms: r.connected,
                duration_s: r.duration,
                bytes_in: r.bytes_in,
                bytes_out: r.bytes_out,
                failed: r.failed,
                authentication_method: s.get_opt(r.auth),
            })
            .collect()
    }

    /// Row `i`'s connection id (empty when the set was made [`without_ids`](Self::without_ids)).
    pub fn id(&self, i: usize) -> &str {
        self.ids.get(i).map_or("", |s| s)
    }

    /// Row `i`'s user.
    pub fn user(&self, i: usize) -> &str {
        self.strings.get(self.rows[i].user)
    }

    /// Row `i`'s connection time (epoch ms).
    pub fn connected(&self, i: usize) -> i64 {
        self.rows[i].connected
    }

    /// Row `i`'s attack scenario label, `None` for normal traffic. Never used for training.
    pub fn label(&self, i: usize) -> Option<&str> {
        self.strings.get_opt(self.rows[i].label)
    }
}
