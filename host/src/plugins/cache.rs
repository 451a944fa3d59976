//! Compiled components cached on disk, so a start or a reload skips compilation. An
//! artifact is native code: it is keyed by the component's SHA-256 and the engine's
//! compatibility hash, and carries an HMAC-SHA256 tag made with a key kept in the database,
//! so the host only ever loads artifacts it wrote itself. Any problem with the cache falls
//! back to compiling.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct Cache {
    dir: Option<PathBuf>,
    key: [u8; 32],
}

impl Cache {
    /// A cache in `dir` signing with `key`; without a directory, nothing is cached.
    pub fn new(dir: Option<&Path>, key: [u8; 32]) -> Cache {
        Cache {
            dir: dir.map(Path::to_path_buf),
            key,
        }
    }

    /// The component of `bytes` (whose SHA-256 is `digest`), from the cache when a valid
    /// artifact is there, else compiled (and stored).
    pub fn component(&self, engine: &Engine, bytes: &[u8], digest: &str) -> Result<Component> {
        let Some(dir) = &self.dir else {
            return Component::new(engine, bytes).map_err(anyhow::Error::from);
        };
        let path = dir.join(format!("{digest}-{:016x}.cwasm", engine_hash(engine)));
        if let Ok(stored) = std::fs::read(&path) {
            if stored.len() > 32 && hmac(&self.key, &stored[32..]) == stored[..32] {
                // SAFETY: the tag proves this host serialized these bytes with an engine of
                // the same compatibility hash (part of the file name).
                match unsafe { Component::deserialize(engine, &stored[32..]) } {
                    Ok(c) => {
                        tracing::info!(path = %path.display(), "component loaded from the cache");
                        return Ok(c);
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "cached component unusable: {e:#}")
                    }
                }
            } else {
                tracing::warn!(path = %path.display(), "cached component not written by this host: ignored");
            }
        }
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        if let Err(e) = self.store(dir, &path, &component) {
            tracing::warn!(dir = %dir.display(), "cannot cache a compiled component: {e:#}");
        }
        Ok(component)
    }

    fn store(&self, dir: &Path, path: &Path, component: &Component) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let artifact = component.serialize().map_err(anyhow::Error::from)?;
        let mut file = hmac(&self.key, &artifact).to_vec();
        file.extend_from_slice(&artifact);
        // Written aside and renamed, so a reader never sees half a file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &file)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

fn engine_hash(engine: &Engine) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; zero-padding it to 32 bytes gives the
        // same HMAC, since keys shorter than the block are zero-padded anyway.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let tag = hmac(&key, b"what do ya want for nothing?");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
