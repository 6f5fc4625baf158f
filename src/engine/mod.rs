//! The engine: transactions (typed, and the streaming `BatchBuilder` for
//! bulk work), commit, dumps and the generation id.

pub mod batch;
pub mod commit;
pub mod dump;
pub mod generation;
pub mod load;
pub mod transaction;

pub use crate::nft::Ruleset;
pub use batch::BatchBuilder;
pub use commit::{Committed, GenCheck};
pub use dump::{dump_raw, dump_raw_with, reset_objects, setelem_request, DumpFilter, RawObject};
pub use generation::{get_generation, Generation};
pub use transaction::{Op, Transaction};
