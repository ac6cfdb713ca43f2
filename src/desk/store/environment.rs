//! Where the database file lives must be safe for it: a local filesystem (SQLite's locking is not
//! reliable over network filesystems, and two reps could corrupt the file), owned by the user
//! running the desk, readable by nobody else, in a directory other users cannot write.

use crate::desk::error::DeskError;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Filesystem magic numbers (statfs f_type) of network filesystems SQLite must not be used on.
const NETWORK_FILESYSTEMS: &[(u64, &str)] = &[
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFF53_4D42, "CIFS"),
    (0xFE53_4D42, "SMB2"),
    (0x6573_5546, "FUSE (e.g. sshfs)"),
    (0x0BD0_0BD0, "Lustre"),
];

fn refuse(path: &Path, cause: String) -> DeskError {
    DeskError::Storage { path: path.to_path_buf(), cause }
}

/// The database, its `-wal` and `-shm` files (those that exist).
fn files(db: &Path) -> Vec<PathBuf> {
    let mut out = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let p = PathBuf::from(name);
        if p.exists() {
            out.push(p);
        }
    }
    out
}

/// Refuses a database on a network filesystem, files not owned by this user or readable by
/// others, and a directory others may write to (without the sticky bit).
pub fn check(db: &Path) -> Result<(), DeskError> {
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(fs) = rustix::fs::statfs(&dir) {
        let kind = fs.f_type as u64;
        if let Some((_, name)) = NETWORK_FILESYSTEMS.iter().find(|(magic, _)| *magic == kind) {
            return Err(refuse(
                db,
                format!(
                    "it is on a network filesystem ({name}), where SQLite's locks do not hold between \
                     machines; keep the database on a local disk of the support host"
                ),
            ));
        }
    }
    let me = rustix::process::geteuid().as_raw();
    let db_writable = std::fs::metadata(db).map(|m| m.mode() & 0o200 != 0).unwrap_or(false);
    // Every file whose mode is wrong is named at once, with one command that fixes them all.
    let mut wrong: Vec<(PathBuf, String)> = Vec::new();
    for file in files(db) {
        let meta = std::fs::metadata(&file).map_err(|e| refuse(db, format!("cannot read {}: {e}", file.display())))?;
        if meta.uid() != me {
            return Err(refuse(
                db,
                format!(
                    "{} belongs to another user (uid {}); run support-desk as that user, or chown the file",
                    file.display(),
                    meta.uid()
                ),
            ));
        }
        let mode = meta.mode() & 0o777;
        if meta.mode() & 0o077 != 0 {
            wrong.push((file, format!("has mode {mode:o}; other users could read Support PIN hashes and the audit trail")));
        } else if file != db && db_writable && meta.mode() & 0o200 == 0 {
            // SQLite gives the -wal and -shm files the database's mode when it makes them; a run
            // on a read-only database leaves them read-only, and every write would then fail after
            // the database is made writable again.
            wrong.push((file, format!("has mode {mode:o} (left by a run while the database was read-only), so nothing could be recorded")));
        }
    }
    if !wrong.is_empty() {
        let said: Vec<String> = wrong.iter().map(|(f, why)| format!("{} {why}", f.display())).collect();
        let names: Vec<String> = wrong.iter().map(|(f, _)| f.display().to_string()).collect();
        return Err(refuse(db, format!("{}. Run `chmod 600 {}`", said.join("; "), names.join(" "))));
    }
    if let Ok(meta) = std::fs::metadata(&dir) {
        // Group write is allowed: with user-private groups (umask 002) a home directory is
        // group-writable by the user's own group.
        let others_write = meta.mode() & 0o002 != 0;
        let sticky = meta.mode() & 0o1000 != 0;
        if others_write && !sticky {
            return Err(refuse(
                db,
                format!(
                    "its directory {} can be written by other users, who could replace the database; \
                     use a directory only you can write (chmod go-w)",
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}
