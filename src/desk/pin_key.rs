//! The secret ("pepper") that keys every Support PIN hash. It lives outside the database, in a key
//! file beside it (mode 0600) or in `SUPPORT_DESK_KEY`, so a stolen database alone does not give
//! up its PINs.

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Length of the key in bytes.
pub const KEY_LEN: usize = 32;

/// The PIN key. Its bytes are zeroed on drop and never printed.
pub struct PinKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

/// Why the key could not be read or made. Messages name the path, never the key.
#[derive(Debug)]
pub enum KeyError {
    /// The key file is missing.
    Missing(PathBuf),
    /// The key file or variable does not hold 64 hex digits.
    Malformed(String),
    /// Group or others may read the key file.
    TooOpen(PathBuf, u32),
    /// The operating system refused.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Missing(p) => write!(
                f,
                "the key file {} is missing; it is made by `init` or `demo` beside the database, \
                 or give it with SUPPORT_DESK_KEY_FILE",
                p.display()
            ),
            KeyError::Malformed(what) => write!(f, "{what} does not hold a key (64 hex digits)"),
            KeyError::TooOpen(p, mode) => write!(
                f,
                "the key file {} has mode {:o}; only its owner may read it (chmod 600)",
                p.display(),
                mode & 0o777
            ),
            KeyError::Io(p, e) => write!(f, "could not use the key file {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for KeyError {}

impl PinKey {
    /// A key from raw bytes (tests, and the environment variable).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> PinKey {
        PinKey { bytes: Zeroizing::new(bytes) }
    }

    /// A fresh key from the operating system's secure random source.
    pub fn generate() -> PinKey {
        let mut bytes = [0u8; KEY_LEN];
        fill_secure(&mut bytes);
        PinKey::from_bytes(bytes)
    }

    fn from_hex(text: &str, what: &str) -> Result<PinKey, KeyError> {
        let decoded = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| KeyError::Malformed(what.to_string()))?,
        );
        let bytes: [u8; KEY_LEN] =
            decoded.as_slice().try_into().map_err(|_| KeyError::Malformed(what.to_string()))?;
        Ok(PinKey::from_bytes(bytes))
    }

    /// The key bytes, for the hasher only.
    pub fn expose(&self) -> &[u8] {
        &self.bytes[..]
    }

    /// A short public fingerprint that tells which key made a hash, without revealing the key.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"support-desk pin key id v1\0");
        h.update(self.expose());
        hex::encode(&h.finalize()[..8])
    }

    /// Where the key file for a database lives by default: beside it, `<db>.key`.
    pub fn default_path(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push(".key");
        PathBuf::from(name)
    }

    /// Loads the key: `SUPPORT_DESK_KEY` (hex) if set, else the file at `SUPPORT_DESK_KEY_FILE`,
    /// else the file beside the database. With several keys, the newest (first).
    pub fn load_for(db: &Path) -> Result<PinKey, KeyError> {
        let mut ring = PinKey::load_ring_for(db)?;
        Ok(ring.remove(0))
    }

    /// Loads every key: newest first. A key file holds one key per line after `key rotate`; the
    /// older keys stay until no hash uses them. `SUPPORT_DESK_KEY` may list several, space- or
    /// comma-separated.
    pub fn load_ring_for(db: &Path) -> Result<Vec<PinKey>, KeyError> {
        if let Ok(hex) = std::env::var("SUPPORT_DESK_KEY") {
            return PinKey::ring_from_text(&hex, "SUPPORT_DESK_KEY");
        }
        PinKey::load_ring_file(&key_path_for(db))
    }

    fn ring_from_text(text: &str, what: &str) -> Result<Vec<PinKey>, KeyError> {
        let keys = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| PinKey::from_hex(t, what))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(KeyError::Malformed(what.to_string()));
        }
        Ok(keys)
    }

    /// Loads a key file (the newest key when it holds several), refusing one that others can read.
    pub fn load_file(path: &Path) -> Result<PinKey, KeyError> {
        let mut ring = PinKey::load_ring_file(path)?;
        Ok(ring.remove(0))
    }

    /// Loads every key of a key file, newest first, refusing a file that others can read.
    pub fn load_ring_file(path: &Path) -> Result<Vec<PinKey>, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(path.to_path_buf()));
            }
            Err(e) => return Err(KeyError::Io(path.to_path_buf(), e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let mode = std::fs::metadata(path).map_err(|e| KeyError::Io(path.into(), e))?.mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen(path.to_path_buf(), mode));
            }
        }
        PinKey::ring_from_text(&text, &path.display().to_string())
    }

    /// Replaces the key file at `path` with `keys` (newest first), atomically: a new file with mode
    /// 0600 is written and synced beside it, then renamed over the old one. A crash leaves either
    /// the old file or the new one, never a half-written key.
    pub fn save_ring(keys: &[&PinKey], path: &Path) -> Result<(), KeyError> {
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".new");
        let tmp = PathBuf::from(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(|e| KeyError::Io(tmp.clone(), e))?;
        let mut text = Zeroizing::new(String::new());
        for key in keys {
            text.push_str(&hex::encode(key.expose()));
            text.push('\n');
        }
        file.write_all(text.as_bytes()).map_err(|e| KeyError::Io(tmp.clone(), e))?;
        file.sync_all().map_err(|e| KeyError::Io(tmp.clone(), e))?;
        std::fs::rename(&tmp, path).map_err(|e| KeyError::Io(path.to_path_buf(), e))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable; a directory that cannot be opened is not fatal.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// Loads the key for a database, or makes and saves a new one if none exists yet.
    pub fn load_or_create_for(db: &Path) -> Result<PinKey, KeyError> {
        match PinKey::load_for(db) {
            Err(KeyError::Missing(path)) => {
                let key = PinKey::generate();
                key.save_new(&path)?;
                Ok(key)
            }
            other => other,
        }
    }

    /// Writes the key to a new file with mode 0600; never overwrites an existing file.
    pub fn save_new(&self, path: &Path) -> Result<(), KeyError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| KeyError::Io(path.into(), e))?;
        let text = Zeroizing::new(format!("{}\n", hex::encode(self.expose())));
        file.write_all(text.as_bytes()).map_err(|e| KeyError::Io(path.into(), e))?;
        file.sync_all().map_err(|e| KeyError::Io(path.into(), e))
    }
}

/// The key file path for a database: `SUPPORT_DESK_KEY_FILE` if set, else `<db>.key`.
pub fn key_path_for(db: &Path) -> PathBuf {
    match std::env::var_os("SUPPORT_DESK_KEY_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PinKey::default_path(db),
    }
}

impl fmt::Debug for PinKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PinKey(id {})", self.id())
    }
}

/// Fills `buf` from the operating system's secure random source.
pub fn fill_secure(buf: &mut [u8]) {
    use rand::TryRng;
    let mut rng = rand::rngs::SysRng;
    // The OS random source failing is not something a desk can work around; without it no PIN
    // or salt can be made safely, so stopping is the only safe answer.
    #[allow(clippy::expect_used)]
    rng.try_fill_bytes(buf).expect("the operating system's secure random source failed");
}
