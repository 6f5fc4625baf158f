//! `Ruleset`: a typed snapshot of (part of) the ruleset. The engine fills
//! it from the kernel ([`crate::engine::dump`]); renderers read it.

use serde::{Deserialize, Serialize};

use super::{Chain, ElementList, Family, Flowtable, Object, Rule, Set, SetElement, Table};

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
    /// Sets and maps, anonymous ones (`__set0`, …) included, without their
    /// elements.
    pub sets: Vec<Set>,
    /// The elements of each set that has any: one [`ElementList`] per
    /// set (the kernel's several dump messages of a big set merged), in
    /// the order of [`Ruleset::sets`]. Kept apart from [`Set`] because
    /// they travel in their own messages; see [`Ruleset::elements_of`].
    pub elements: Vec<ElementList>,
    /// Stateful objects.
    pub objects: Vec<Object>,
    /// Flowtables.
    pub flowtables: Vec<Flowtable>,
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

    /// The sets of one table, in order (anonymous ones included; see
    /// [`Set::is_anonymous`]).
    pub fn sets_of<'a>(
        &'a self,
        family: Family,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Set> + 'a {
        self.sets
            .iter()
            .filter(move |s| s.family == family && s.table == table)
    }

    /// The set `family`/`table`/`name`, if present.
    pub fn set(&self, family: Family, table: &str, name: &str) -> Option<&Set> {
        self.sets
            .iter()
            .find(|s| s.family == family && s.table == table && s.name == name)
    }

    /// The elements of one set, in the kernel's order (empty when the set
    /// has none or is unknown).
    pub fn elements_of(&self, family: Family, table: &str, set: &str) -> &[SetElement] {
        self.elements
            .iter()
            .find(|l| l.family == family && l.table == table && l.set == set)
            .map_or(&[], |l| l.elements.as_slice())
    }

    /// The stateful objects of one table, in order.
    pub fn objects_of<'a>(
        &'a self,
        family: Family,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Object> + 'a {
        self.objects
            .iter()
            .filter(move |o| o.family == family && o.table == table)
    }

    /// The flowtables of one table, in order.
    pub fn flowtables_of<'a>(
        &'a self,
        family: Family,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Flowtable> + 'a {
        self.flowtables
            .iter()
            .filter(move |f| f.family == family && f.table == table)
    }
}
