//! Reports: readers of a [`model::Report`], one module per format, nothing else.

pub mod json;
pub mod junit;
pub mod model;
pub mod sarif;
pub mod text;
