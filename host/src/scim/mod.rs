//! SCIM 2.0 pieces below the HTTP layer, using nothing above `contract`: the one
//! definition of the resources' schemas (RFC 7643), which drives discovery, projection
//! (`attributes=`, `excludedAttributes=`) and PATCH paths; the filter language (RFC 7644
//! §3.4.2.2) and PATCH paths (§3.5.2) as syntax trees; PATCH operations applied to a
//! resource's JSON; resource versions (ETags).

pub mod etag;
// `filter=` on the lists is the next step (docs/scim.md); until then only PATCH value
// filters use this module.
#[cfg_attr(not(test), allow(dead_code))]
pub mod filter;
pub mod patch;
pub mod path;
pub mod projection;
// The store's list functions call `check`/`check_sort` next (docs/scim.md).
#[cfg_attr(not(test), allow(dead_code))]
pub mod query;
pub mod schema;
