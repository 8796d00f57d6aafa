//! Definitions as data: the check schema ([`model`]), `config.yaml` ([`config`]), finding and
//! parsing files ([`load`]) and `$variable` substitution ([`vars`]).

pub mod config;
pub mod doc;
pub mod load;
pub mod model;
pub mod vars;
