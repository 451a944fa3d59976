//! The `config` and `log` imports every slot may use.

use super::GuestState;
use super::bindings::iam::plugin::{config as settings, log};

/// Lines longer than this are cut.
const MAX_LINE: usize = 4096;
/// Lines of one call beyond this are dropped (a guest cannot flood the log).
const MAX_LINES: u32 = 100;

impl settings::Host for GuestState {
    fn get(&mut self, key: String) -> Option<String> {
        self.settings.get(&key).cloned()
    }

    fn entries(&mut self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl log::Host for GuestState {
    fn write(&mut self, level: log::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LINES {
            if self.log_lines == MAX_LINES + 1 {
                tracing::warn!(
                    plugin = self.slot,
                    "plugin log lines beyond {MAX_LINES} dropped"
                );
            }
            return;
        }
        let mut line = message;
        if line.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
        }
        // The request's span (entered around the call) adds the request id.
        let plugin = self.slot;
        match level {
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, "{line}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, "{line}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, "{line}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, "{line}"),
        }
    }
}
