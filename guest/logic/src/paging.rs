//! SCIM list paging (docs/api.md §4.4, family B).

use crate::types::{PageInfo, PageRequest};

/// The largest SCIM page.
pub const SCIM_MAX_COUNT: i64 = 100;

/// A resolved SCIM window: `offset`/`limit` for the query and the echo for the response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
    pub start_index: u64,
    pub count_only: bool,
}

/// `count`: absent → 100, negative → 0, above 100 → 100; `0` asks for the count only.
/// `startIndex`: absent or below 1 → 1.
pub fn scim_window(page: &PageRequest) -> Window {
    scim_window_up_to(page, SCIM_MAX_COUNT)
}

/// [`scim_window`] with the site's own largest page `max` (the user and group lists).
pub fn scim_window_up_to(page: &PageRequest, max: i64) -> Window {
    let count = page.count.unwrap_or(max).clamp(0, max) as u64;
    let start_index = page.start_index.filter(|s| *s >= 1).unwrap_or(1) as u64;
    Window {
        offset: start_index - 1,
        limit: count,
        start_index,
        count_only: count == 0,
    }
}

/// "Utility" paging (family A) as docs/api.md §3.1 amends it: `count` absent → `max`,
/// negative → 0, above `max` → `max`, and `0` asks for the count only (IAM: 500);
/// `startIndex` absent or below 1 → 1 (IAM: 500 for 0).
pub fn utility_window(start_index: Option<i64>, count: Option<i64>, max: i64) -> Window {
    let count = count.map_or(max, |c| c.clamp(0, max)) as u64;
    let start_index = start_index.filter(|s| *s >= 1).unwrap_or(1) as u64;
    Window {
        offset: start_index - 1,
        limit: count,
        start_index,
        count_only: count == 0,
    }
}

/// The largest search page.
pub const SEARCH_MAX_COUNT: i64 = 10;

/// Search paging (family C): `count` absent, negative or above 10 → 10, `0` asks for the
/// count only; `startIndex` absent or below 1 → 1.
pub fn search_window(start_index: Option<i64>, count: Option<i64>) -> Window {
    let count = match count {
        Some(c) if (0..=SEARCH_MAX_COUNT).contains(&c) => c as u64,
        _ => SEARCH_MAX_COUNT as u64,
    };
    let start_index = start_index.filter(|s| *s >= 1).unwrap_or(1) as u64;
    Window {
        offset: start_index - 1,
        limit: count,
        start_index,
        count_only: count == 0,
    }
}

impl Window {
    pub fn info(&self, total_results: u64) -> PageInfo {
        PageInfo {
            total_results,
            start_index: self.start_index,
            count_only: self.count_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start_index: Option<i64>, count: Option<i64>) -> Window {
        scim_window(&PageRequest { start_index, count })
    }

    #[test]
    fn utility_defaults_and_clamps() {
        assert_eq!(
            utility_window(None, None, 100),
            Window {
                offset: 0,
                limit: 100,
                start_index: 1,
                count_only: false
            }
        );
        assert_eq!(utility_window(Some(0), Some(500), 10).limit, 10);
        assert!(utility_window(Some(-1), Some(-1), 100).count_only);
        assert_eq!(utility_window(Some(3), Some(2), 100).offset, 2);
    }

    #[test]
    fn search_defaults_and_clamps() {
        assert_eq!(
            search_window(None, None),
            Window {
                offset: 0,
                limit: 10,
                start_index: 1,
                count_only: false
            }
        );
        assert_eq!(search_window(Some(-1), Some(-1)).limit, 10);
        assert_eq!(
            search_window(Some(0), Some(11)),
            Window {
                offset: 0,
                limit: 10,
                start_index: 1,
                count_only: false
            }
        );
        assert!(search_window(Some(5), Some(0)).count_only);
        assert_eq!(
            search_window(Some(21), Some(3)),
            Window {
                offset: 20,
                limit: 3,
                start_index: 21,
                count_only: false
            }
        );
    }

    #[test]
    fn scim_defaults_and_clamps() {
        assert_eq!(
            w(None, None),
            Window {
                offset: 0,
                limit: 100,
                start_index: 1,
                count_only: false
            }
        );
        assert_eq!(
            w(Some(0), Some(-5)),
            Window {
                offset: 0,
                limit: 0,
                start_index: 1,
                count_only: true
            }
        );
        assert_eq!(w(Some(-3), Some(1000)).limit, 100);
        assert_eq!(
            w(Some(11), Some(5)),
            Window {
                offset: 10,
                limit: 5,
                start_index: 11,
                count_only: false
            }
        );
    }
}
