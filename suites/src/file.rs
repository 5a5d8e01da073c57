//! `file` properties: one per rule of the catalogue's file rules.

use crate::registry::Property;

/// The file properties.
pub static PROPERTIES: &[Property] = &[];
