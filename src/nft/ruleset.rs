//! `Ruleset`: a typed snapshot of (part of) the ruleset. The engine fills
//! it from the kernel ([`crate::engine::dump`]); renderers read it.

use serde::{Deserialize, Serialize};

use super::{Chain, Family, Rule, Table};

/// A typed snapshot of the ruleset (or the part a filter selects), in the
/// order the kernel lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruleset {
    /// Generation the snapshot belongs to.
    pub genid: u32,
    /// Tables.
    pub tables: Vec<Table>,
    /// Chains.
    pub chains: Vec<Chain>,
    /// Rules.
    pub rules: Vec<Rule>,
}

impl Ruleset {
    /// The table `family`/`name`, if present.
    pub fn table(&self, family: Family, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.family == family && t.name == name)
    }

    /// The chains of one table, in order.
    pub fn chains_of<'a>(
        &'a self,
        family: Family,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Chain> + 'a {
        self.chains
            .iter()
            .filter(move |c| c.family == family && c.table == table)
    }

    /// The rules of one chain, in order.
    pub fn rules_of<'a>(
        &'a self,
        family: Family,
        table: &'a str,
        chain: &'a str,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.family == family && r.table == table && r.chain == chain)
    }
}
