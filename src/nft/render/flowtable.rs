//! Flowtables (`flowtable NAME { hook ingress priority …; devices = { … } }`)
//! as nft 1.0.6 prints them (`flowtable_print_declaration`).

use super::text::priority_text;
use crate::nft::flowtable::FlowtableFlags;
use crate::nft::{Family, Flowtable, Hook};

/// Prints one flowtable block (without the blank line before it).
pub(crate) fn flowtable_text(out: &mut String, f: &Flowtable) {
    out.push_str(&format!("\tflowtable {} {{\n", f.name));
    // Flowtables hook only ingress; nft names the priority as for netdev.
    let prio = priority_text(Family::Netdev, Hook::Ingress, f.priority().unwrap_or(0));
    out.push_str(&format!("\t\thook ingress priority {prio}\n"));
    let devs = f.sorted_devices();
    if !devs.is_empty() {
        out.push_str(&format!("\t\tdevices = {{ {} }}\n", devs.join(", ")));
    }
    let flags = f.flags.unwrap_or(FlowtableFlags::empty());
    if flags.contains(FlowtableFlags::COUNTER) {
        out.push_str("\t\tcounter\n");
    }
    if flags.contains(FlowtableFlags::HW_OFFLOAD) {
        out.push_str("\t\tflags offload\n");
    }
    out.push_str("\t}\n");
}
