//! Definitions as data: the check schema as written ([`raw`]) and as used ([`model`]),
//! `config.yaml` ([`config`]), finding, parsing and validating files ([`load`]), the JSONPath
//! of test items ([`jsonpath`]) and `$variable` substitution ([`vars`]).

pub mod config;
pub mod doc;
pub mod jsonpath;
pub mod load;
pub mod model;
pub mod raw;
pub mod vars;
