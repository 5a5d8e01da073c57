//! `shm` properties: one per rule of the catalogue's shm rules.

use crate::registry::Property;

/// The shm properties.
pub static PROPERTIES: &[Property] = &[];
