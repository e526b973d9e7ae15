//! Views derived from the connections (the Lacework users and role groups, the sensor fleet)
//! follow them incrementally: each remembers, in `settings`, the largest connection rowid it has
//! taken in, and reads only the connections imported since.

use rusqlite::{params, OptionalExtension};

use super::ResponseError;
use crate::Store;

/// What a follower has to take in: the connections with a rowid above `after`, up to `newest`.
pub(crate) struct Pending {
    /// Connections above this rowid are new (0 after connections were deleted: all of them).
    pub after: i64,
    /// The newest rowid now, to record once they are taken in ([`taken_in`]).
    pub newest: i64,
}

/// The connections the follower `key` has not taken in yet, if any.
pub(crate) fn pending(c: &rusqlite::Connection, key: &str) -> rusqlite::Result<Option<Pending>> {
    let newest: i64 = c.query_row("SELECT coalesce(max(rowid), 0) FROM connections", [], |r| {
        r.get(0)
    })?;
    let mark: i64 = c
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(match newest.cmp(&mark) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(Pending {
            after: mark,
            newest,
        }),
        // Connections were deleted and their row ids may be reused: look at everything again.
        std::cmp::Ordering::Less => Some(Pending { after: 0, newest }),
    })
}

/// Records that the follower `key` took in every connection up to `pending.newest`.
pub(crate) fn taken_in(
    c: &rusqlite::Connection,
    key: &str,
    pending: &Pending,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, pending.newest.to_string()],
    )?;
    Ok(())
}

/// Runs `follow` (which takes the new connections in and calls [`taken_in`]) in a transaction of
/// its own, when the follower `key` has anything to take in; a cheap read otherwise.
pub(crate) fn catch_up(
    store: &Store,
    key: &str,
    follow: impl FnOnce(&rusqlite::Connection) -> Result<(), ResponseError>,
) -> Result<(), ResponseError> {
    if store
        .read(|c| pending(c, key).map_err(ResponseError::from))?
        .is_none()
    {
        return Ok(());
    }
    store.write(|c| {
        let tx = c.transaction()?;
        follow(&tx)?;
        tx.commit()?;
        Ok(())
    })
}
