//! Typed ids: a unit id can never be passed where a user id is expected.
//!
//! Only the store mints ids from database rows (`from_db`); the web edge parses untrusted text
//! with `parse`, which yields an id that may still name nothing (the store answers `NotFound`).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// For the store only: wraps a key read from the database.
            pub fn from_db(raw: i64) -> Self {
                Self(raw)
            }

            /// Parses an id from a path or form field; `None` for anything but a positive integer.
            pub fn parse(text: &str) -> Option<Self> {
                text.trim().parse::<i64>().ok().filter(|n| *n > 0).map(Self)
            }

            /// The raw key, for binding into queries.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// A region (地区/辖区): the root a deployment serves.
    RegionId
);
typed_id!(
    /// A unit (单位) in the organisation tree.
    UnitId
);
typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// An audit event; ids are the gapless chain positions 1, 2, 3…
    AuditEventId
);
typed_id!(
    /// A per-user API token.
    TokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_positive_integers() {
        assert_eq!(UnitId::parse("12").map(UnitId::get), Some(12));
        assert_eq!(UnitId::parse(" 7 ").map(UnitId::get), Some(7));
        assert!(UnitId::parse("0").is_none());
        assert!(UnitId::parse("-3").is_none());
        assert!(UnitId::parse("abc").is_none());
        assert!(UnitId::parse("").is_none());
    }
}
