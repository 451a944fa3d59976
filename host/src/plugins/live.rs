//! Live reload: the plugin set a running server uses, swapped whole. A request takes the
//! current set once and keeps it to the end, so a reload never cuts one short.

use std::sync::{Arc, Mutex, RwLock};

use anyhow::Result;

use super::Plugins;
use super::stats::Stats;
use crate::config::PluginsConfig;

/// The plugin set a running server uses, swapped whole on reload.
pub struct LivePlugins {
    current: RwLock<Arc<Plugins>>,
    /// Call statistics, kept across reloads.
    pub stats: Arc<Stats>,
    cache_key: [u8; 32],
    /// One reload at a time.
    reloading: Mutex<()>,
}

impl LivePlugins {
    /// Loads the first set.
    pub fn load(cfg: &PluginsConfig, cache_key: [u8; 32]) -> Result<LivePlugins> {
        let stats = Arc::new(Stats::default());
        let plugins = Plugins::load(cfg, &stats, cache_key)?;
        Ok(LivePlugins {
            current: RwLock::new(Arc::new(plugins)),
            stats,
            cache_key,
            reloading: Mutex::new(()),
        })
    }

    pub fn get(&self) -> Arc<Plugins> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads and checks a new set, then swaps it in. Blocking (compiles); on error the old
    /// set keeps serving.
    pub fn reload(&self, cfg: &PluginsConfig) -> Result<()> {
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = Plugins::load(cfg, &self.stats, self.cache_key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}
