//! The `config` and `log` imports every slot may use, over [`PluginView`], and the escaping
//! that keeps text from a guest to one harmless line in the host's log.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use wasmtime::component::HasData;

use crate::contract::iam::plugin::{config as settings, log};
use crate::plugins::GuestState;

/// Lines longer than this are cut.
const MAX_LINE: usize = 4096;
/// Lines of one call beyond this are dropped (a guest cannot flood the log).
const MAX_LINES: u32 = 100;

/// What `config` and `log` work with: the plugin's slot and public name, its settings, and
/// how many lines it logged in this call.
pub struct PluginView<'a> {
    slot: &'static str,
    component: &'a str,
    settings: &'a BTreeMap<String, String>,
    log_lines: &'a mut u32,
}

/// Links `config` and `log` over [`PluginView`].
pub struct HasPlugin;

impl HasData for HasPlugin {
    type Data<'a> = PluginView<'a>;
}

impl GuestState {
    pub fn plugin_view(&mut self) -> PluginView<'_> {
        PluginView {
            slot: self.slot,
            component: &self.component,
            settings: &self.settings,
            log_lines: &mut self.log_lines,
        }
    }
}

impl settings::Host for PluginView<'_> {
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

/// Text a guest chose (a log message, its stderr, a deny reason, an error message) made
/// safe to write into the host's log: one line that cannot pass for another. Control
/// characters (newline, carriage return, escape and the rest of C0 and C1), Unicode line
/// and paragraph separators and bidirectional controls are written as `\n`, `\r`, `\t`
/// or `\u{..}`, and a backslash as `\\`, so the escapes stay unambiguous.
pub fn escape_guest_text(text: &str) -> Cow<'_, str> {
    let needs = |c: char| c == '\\' || c.is_control() || is_layout_control(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_layout_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that are not control characters to Unicode but break or reorder what a
/// reader sees: line and paragraph separators, and bidirectional marks and overrides.
fn is_layout_control(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

impl log::Host for PluginView<'_> {
    fn write(&mut self, level: log::Level, message: String) {
        let plugin = self.slot;
        let component = self.component;
        *self.log_lines += 1;
        if *self.log_lines > MAX_LINES {
            if *self.log_lines == MAX_LINES + 1 {
                tracing::warn!(
                    plugin,
                    component,
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
        // Target `plugin` and the slot and component fields mark the line as a guest's;
        // escaping keeps it one line, so it cannot end and start a forged one. The
        // request's span (entered around the call) adds the request id.
        let line = escape_guest_text(&line);
        match level {
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, component, "{line}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, component, "{line}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, component, "{line}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, component, "{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_guest_text;

    #[test]
    fn guest_text_stays_one_unambiguous_line() {
        assert!(matches!(
            escape_guest_text("plain text, \"quoted\" and ünïcode"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_guest_text("x\n2099-01-01T00:00:00Z  INFO audit: forged\r"),
            "x\\n2099-01-01T00:00:00Z  INFO audit: forged\\r"
        );
        assert_eq!(
            escape_guest_text("\u{1b}[2K\tcolour\u{7f}\u{85}"),
            "\\u{1b}[2K\\tcolour\\u{7f}\\u{85}"
        );
        assert_eq!(
            escape_guest_text("a\u{2028}b\u{202e}c\u{2066}d"),
            "a\\u{2028}b\\u{202e}c\\u{2066}d"
        );
        // A literal backslash-n is not confused with an escaped newline.
        assert_eq!(escape_guest_text("a\\nb"), "a\\\\nb");
        assert!(!escape_guest_text("\u{0}\u{1f}\u{9f}").contains(char::is_control));
    }
}
