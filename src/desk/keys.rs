//! The PIN key over time: checking that a database and its key file belong together, rotating to a
//! new key, and dropping old keys once no hash needs them.
//!
//! PINs are hashed, so rotation cannot re-key them. It makes a new key the current one and keeps
//! the old key in the key file (newest first); a hash made with an old key still verifies with it
//! and, like every match, is replaced by a hash made with the current key. Once no hash uses an
//! old key it is dropped from the file.

use super::audit::{self, EventKind, NewEvent};
use super::error::DeskError;
use super::pin_key::PinKey;
use super::store::sql;
use super::Desk;
use serde::Serialize;
use std::path::Path;

/// How many Support PIN hashes use one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyUse {
    /// The key id; `None` for unkeyed hashes (imported, or the example's), keyed at the next match.
    pub key_id: Option<String>,
    pub hashes: i64,
    /// True when the key file holds this key (always true for unkeyed hashes).
    pub in_key_file: bool,
    /// True for the key new hashes are made with.
    pub current: bool,
}

/// Whether a database and its key file belong together, and which keys its hashes use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyStatus {
    /// The key id the database records (none before the first keyed hash).
    pub database_key_id: Option<String>,
    /// The ids of the keys loaded, newest first; empty when none could be loaded.
    pub key_file_ids: Vec<String>,
    /// Why no key could be loaded, if so.
    pub key_error: Option<String>,
    /// True when the key file holds the database's key.
    pub belongs: bool,
    /// Hashes per key.
    pub uses: Vec<KeyUse>,
    /// Old keys in the key file that no hash uses any more (dropped by `key rotate` or `key prune`).
    pub unused_old_keys: Vec<String>,
    /// Hashes made with a key the key file does not hold: those PINs can never match until the
    /// holder makes a new one.
    pub orphaned_hashes: i64,
}

impl KeyStatus {
    /// True when nothing is wrong: the key belongs and every hash can be checked.
    pub fn healthy(&self) -> bool {
        self.belongs && self.orphaned_hashes == 0
    }
}

/// The result of `key rotate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    /// Hashes still made with older keys: each is re-keyed at its next match.
    pub hashes_to_rekey: i64,
    /// Old keys kept in the key file, because hashes still use them.
    pub kept_old_keys: Vec<String>,
    /// Old keys dropped, because no hash uses them.
    pub dropped_old_keys: Vec<String>,
}

impl Desk {
    fn hashes_per_key(&self) -> Result<Vec<(Option<String>, i64)>, DeskError> {
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Vec<(Option<String>, i64)>> {
            let mut stmt = conn.prepare(
                "SELECT pin_key_id, count(*) FROM accounts WHERE pin_hash IS NOT NULL GROUP BY pin_key_id ORDER BY pin_key_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        run().map_err(|e| self.store.read_error(e))
    }

    /// Says whether the loaded key file belongs to this database and how many hashes use each key.
    pub fn key_status(&self) -> Result<KeyStatus, DeskError> {
        let database_key_id = self.meta("key_id")?;
        let (key_file_ids, key_error) = match &self.key_ids {
            Ok(ids) => (ids.clone(), None),
            Err(e) => (Vec::new(), Some(e.clone())),
        };
        let belongs = match &database_key_id {
            Some(id) => key_file_ids.contains(id),
            None => !key_file_ids.is_empty(),
        };
        let current = database_key_id.clone().or_else(|| key_file_ids.first().cloned());
        let mut uses = Vec::new();
        let mut orphaned_hashes = 0;
        for (key_id, hashes) in self.hashes_per_key()? {
            let in_key_file = key_id.as_ref().is_none_or(|id| key_file_ids.contains(id));
            if !in_key_file {
                orphaned_hashes += hashes;
            }
            let is_current = key_id.is_some() && key_id == current;
            uses.push(KeyUse { key_id, hashes, in_key_file, current: is_current });
        }
        // A key file that does not belong to this database holds no "old keys" of it to drop.
        let unused_old_keys = if belongs {
            key_file_ids
                .iter()
                .filter(|id| Some(*id) != current.as_ref() && !uses.iter().any(|u| u.key_id.as_ref() == Some(*id)))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        Ok(KeyStatus { database_key_id, key_file_ids, key_error, belongs, uses, unused_old_keys, orphaned_hashes })
    }

    /// Rotates the PIN key kept in `key_file`: a new key becomes current, the old ones stay in the
    /// file while hashes use them. The key file is replaced first (new key added, nothing removed),
    /// then the database records the new key with an audit event, then unused old keys are dropped:
    /// a crash at any point leaves a key file that still holds the key the database records.
    pub fn rotate_key(&mut self, key_file: &Path) -> Result<Rotation, DeskError> {
        let ring = PinKey::load_ring_file(key_file)?;
        let old_key_id = self.hasher()?.key_id().to_string();
        if !ring.iter().any(|k| k.id() == old_key_id) {
            return Err(DeskError::Key(format!(
                "{} does not hold the key this desk uses; rotate the key file that belongs to the database",
                key_file.display()
            )));
        }
        let new_key = PinKey::generate();
        let new_key_id = new_key.id();
        let mut all: Vec<&PinKey> = vec![&new_key];
        all.extend(ring.iter());
        PinKey::save_ring(&all, key_file)?;
        let now = self.clock.now();
        let to_rekey: i64 = self.store.write(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('key_id', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [&new_key_id],
            )
            .map_err(sql)?;
            let to_rekey: i64 = tx
                .query_row(
                    "SELECT count(*) FROM accounts WHERE pin_hash IS NOT NULL AND (pin_key_id IS NULL OR pin_key_id <> ?1)",
                    [&new_key_id],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            audit::append(tx, now, EventKind::KeyRotated, &NewEvent {
                outcome: "ok".into(),
                detail: Some(format!(
                    "PIN key {old_key_id} replaced by {new_key_id}; {to_rekey} hash(es) re-keyed at their next match"
                )),
                ..NewEvent::default()
            })?;
            Ok(to_rekey)
        })?;
        // From here on this desk hashes with the new key.
        let older: Vec<PinKey> = PinKey::load_ring_file(key_file)?.into_iter().skip(1).collect();
        self.key_ids = Ok(all.iter().map(|k| k.id()).collect());
        self.hasher = Ok(super::pin_hash::PinHasher::with_older(PinKey::load_file(key_file)?, older));
        let dropped_old_keys = self.prune_keys(key_file)?;
        let kept_old_keys = self.key_ids.as_ref().map(|ids| ids[1..].to_vec()).unwrap_or_default();
        Ok(Rotation { old_key_id, new_key_id, hashes_to_rekey: to_rekey, kept_old_keys, dropped_old_keys })
    }

    /// Drops from `key_file` every old key that no hash uses any more; returns their ids. The key
    /// the database records is always kept.
    pub fn prune_keys(&mut self, key_file: &Path) -> Result<Vec<String>, DeskError> {
        let ring = PinKey::load_ring_file(key_file)?;
        let current = self.hasher()?.key_id().to_string();
        let used: Vec<Option<String>> = self.hashes_per_key()?.into_iter().map(|(k, _)| k).collect();
        let (keep, drop): (Vec<&PinKey>, Vec<&PinKey>) =
            ring.iter().partition(|k| k.id() == current || used.contains(&Some(k.id())));
        if drop.is_empty() {
            return Ok(Vec::new());
        }
        // The current key first: it is the one new hashes use.
        let mut ordered: Vec<&PinKey> = keep.iter().copied().filter(|k| k.id() == current).collect();
        ordered.extend(keep.iter().copied().filter(|k| k.id() != current));
        PinKey::save_ring(&ordered, key_file)?;
        self.key_ids = Ok(ordered.iter().map(|k| k.id()).collect());
        Ok(drop.iter().map(|k| k.id()).collect())
    }
}
