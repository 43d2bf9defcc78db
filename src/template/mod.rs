//! Templates: the Jinja environment faithful to Proton, rendering of deployment units, and
//! static analysis of the references templates make.

pub mod analyse;
pub mod env;
pub mod proton_filters;
pub mod python;
pub mod render;
