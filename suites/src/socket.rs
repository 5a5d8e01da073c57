//! `socket` properties: one per rule of the catalogue's socket rules.

use crate::registry::Property;

/// The socket properties.
pub static PROPERTIES: &[Property] = &[];
