//! Thin owning wrappers around libnftnl objects (through the `nftnl-sys`
//! bindings, a dev-dependency: the GPL-2.0+ libnftnl is linked into this
//! test binary only, never into the nftguard library), and the one function
//! that has libnftnl write a message: [`nlmsg_attrs`].
//!
//! This file holds all the `unsafe` of the nftnl_diff test (the house rule
//! keeps the library's `unsafe` in `src/netlink/socket.rs`; a test that
//! calls C needs its own). Every block only passes pointers to objects
//! libnftnl allocated and a wrapper here owns (freed once, in `Drop`), to C strings
//! that outlive the call (libnftnl copies them), or to Rust buffers whose
//! length is passed along (libnftnl copies them too). The few calls that
//! hand an object over to another (`add_expr`) forget the Rust owner so it
//! is freed once, by its new owner.

#![allow(unsafe_code)]
#![allow(dead_code)] // each test binary uses a different part

use std::ffi::CString;
use std::os::raw::{c_char, c_void};

pub use nftnl_sys as sys;

/// `sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg)`: where the
/// attributes of an nf_tables message start.
const ATTRS_AT: usize = 16 + 4;

/// Room for one message: libmnl does not bound-check its writes, so the
/// buffer is far larger than anything these tests build (a few hundred
/// bytes).
const MSG_ROOM_WORDS: usize = 16 * 1024;

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| panic!("{s:?} holds a NUL byte"))
}

/// Has libnftnl write one message header into a zeroed, 4-byte aligned
/// buffer, lets `fill` add the payload, and returns the attribute bytes
/// (everything after the nfgenmsg), exactly as libnftnl would send them.
pub fn nlmsg_attrs(fill: impl FnOnce(*mut sys::libc::nlmsghdr)) -> Vec<u8> {
    let mut buf = vec![0u32; MSG_ROOM_WORDS];
    let at = buf.as_mut_ptr() as *mut c_char;
    // SAFETY: `at` points to MSG_ROOM_WORDS * 4 writable, aligned bytes;
    // the header takes 20 of them.
    let nlh = unsafe { sys::nftnl_nlmsg_build_hdr(at, 0, 2, 0, 1) };
    fill(nlh);
    let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
    let len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert!(
        (ATTRS_AT..=bytes.len()).contains(&len),
        "libnftnl wrote a message of {len} bytes"
    );
    bytes[ATTRS_AT..len].to_vec()
}

/// Whether libnftnl works in this process (allocating an expression by
/// name needs its expression table).
pub fn usable() -> bool {
    let name = cstr("payload");
    // SAFETY: `name` is a valid C string; the expression, if any, is freed
    // right away.
    unsafe {
        let e = sys::nftnl_expr_alloc(name.as_ptr());
        if e.is_null() {
            return false;
        }
        sys::nftnl_expr_free(e);
    }
    true
}

/// Declares an owning wrapper for one libnftnl object type with chained
/// setters. `$set_str`/`$set_data` return an int in some types and
/// nothing in others; the result is not needed (a failed set shows up as a
/// missing attribute in the comparison).
macro_rules! wrapper {
    (
        $(#[$m:meta])*
        $name:ident($raw:ty) {
            $(alloc: $alloc:path,)?
            free: $free:path,
            set_u32: $u32:path,
            set_u64: $u64:path,
            set_str: $str:path,
            set_data: $data:path,
        }
    ) => {
        $(#[$m])*
        pub struct $name(*mut $raw);

        impl $name {
            $(
            /// A fresh, empty object.
            pub fn new() -> Self {
                // SAFETY: plain allocation.
                let p = unsafe { $alloc() };
                assert!(!p.is_null(), "libnftnl allocation failed");
                $name(p)
            }
            )?

            /// The raw pointer (still owned by `self`).
            pub fn ptr(&self) -> *mut $raw {
                self.0
            }

            /// Sets a u32 attribute (host order; libnftnl converts).
            pub fn u32(self, attr: u32, v: u32) -> Self {
                // SAFETY: `self.0` is live; the value is copied.
                unsafe { $u32(self.0, attr as u16, v) };
                self
            }

            /// Sets a u64 attribute (host order; libnftnl converts).
            pub fn u64(self, attr: u32, v: u64) -> Self {
                // SAFETY: `self.0` is live; the value is copied.
                unsafe { $u64(self.0, attr as u16, v) };
                self
            }

            /// Sets a string attribute.
            pub fn str(self, attr: u32, v: &str) -> Self {
                let c = cstr(v);
                // SAFETY: `self.0` is live; `c` outlives the call and
                // libnftnl duplicates it.
                unsafe { $str(self.0, attr as u16, c.as_ptr()) };
                self
            }

            /// Sets a byte attribute (libnftnl copies `v`).
            pub fn data(self, attr: u32, v: &[u8]) -> Self {
                // SAFETY: `self.0` is live; `v` is valid for `v.len()`
                // bytes during the call and libnftnl copies them.
                unsafe { $data(self.0, attr as u16, v.as_ptr() as *const c_void, v.len() as u32) };
                self
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: `self.0` was allocated by libnftnl and is freed
                // only here.
                unsafe { $free(self.0) };
            }
        }
    };
}

wrapper! {
    /// `struct nftnl_expr` (allocated by kind name: [`Expr::new_named`]).
    Expr(sys::nftnl_expr) {
        free: sys::nftnl_expr_free,
        set_u32: sys::nftnl_expr_set_u32,
        set_u64: sys::nftnl_expr_set_u64,
        set_str: sys::nftnl_expr_set_str,
        set_data: sys::nftnl_expr_set,
    }
}

impl Expr {
    /// An expression of kind `name` (`payload`, `cmp`, …).
    pub fn new_named(name: &str) -> Self {
        let c = cstr(name);
        // SAFETY: `c` is a valid C string for the call.
        let p = unsafe { sys::nftnl_expr_alloc(c.as_ptr()) };
        assert!(!p.is_null(), "libnftnl has no expression {name:?}");
        Expr(p)
    }

    /// Sets a u8 attribute.
    pub fn u8(self, attr: u32, v: u8) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_expr_set_u8(self.0, attr as u16, v) };
        self
    }

    /// Sets a u16 attribute.
    pub fn u16(self, attr: u32, v: u16) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_expr_set_u16(self.0, attr as u16, v) };
        self
    }

    /// Hands `inner` to this expression's `attr` (dynset's EXPR: one
    /// expression, owned from now on by `self`).
    pub fn expr(self, attr: u32, inner: Expr) -> Self {
        let p = inner.into_raw();
        // SAFETY: `self.0` and `p` are live; libnftnl takes ownership of
        // `p` (NFTNL_EXPR_DYNSET_EXPR stores the pointer).
        unsafe { sys::nftnl_expr_set(self.0, attr as u16, p as *const c_void, 0) };
        self
    }

    /// Appends `inner` to this expression's list `attr` (dynset's
    /// EXPRESSIONS), which owns it from now on.
    pub fn add_expr(self, attr: u32, inner: Expr) -> Self {
        let p = inner.into_raw();
        // SAFETY: `self.0` and `p` are live; libnftnl takes ownership.
        unsafe { sys::nftnl_expr_add_expr(self.0, attr, p) };
        self
    }

    /// Gives up ownership (the caller hands the pointer to libnftnl).
    pub fn into_raw(self) -> *mut sys::nftnl_expr {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    /// The attributes libnftnl writes for this expression inside one
    /// `NFTA_LIST_ELEM`: `NFTA_EXPR_NAME` and `NFTA_EXPR_DATA`.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: `nlh` is the live header `nlmsg_attrs` built; `self.0`
        // is live.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_expr_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_table`.
    Table(sys::nftnl_table) {
        alloc: sys::nftnl_table_alloc,
        free: sys::nftnl_table_free,
        set_u32: sys::nftnl_table_set_u32,
        set_u64: sys::nftnl_table_set_u64,
        set_str: sys::nftnl_table_set_str,
        set_data: sys::nftnl_table_set_data,
    }
}

impl Table {
    /// The attributes of a NEWTABLE message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_table_nlmsg_build_payload(nlh, self.0) })
    }
}

/// A NULL-terminated `char *[]` over `CString`s that outlive it.
fn with_c_array<R>(items: &[&str], f: impl FnOnce(*mut *const c_char) -> R) -> R {
    let owned: Vec<CString> = items.iter().map(|s| cstr(s)).collect();
    let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    f(ptrs.as_mut_ptr())
}

wrapper! {
    /// `struct nftnl_chain`.
    Chain(sys::nftnl_chain) {
        alloc: sys::nftnl_chain_alloc,
        free: sys::nftnl_chain_free,
        set_u32: sys::nftnl_chain_set_u32,
        set_u64: sys::nftnl_chain_set_u64,
        set_str: sys::nftnl_chain_set_str,
        set_data: sys::nftnl_chain_set_data,
    }
}

impl Chain {
    /// Sets a signed 32-bit attribute (the priority).
    pub fn s32(self, attr: u32, v: i32) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_chain_set_s32(self.0, attr as u16, v) };
        self
    }

    /// Sets a device list (`NFTNL_CHAIN_DEVICES`).
    pub fn array(self, attr: u32, items: &[&str]) -> Self {
        // SAFETY: `self.0` is live; the array and its strings outlive the
        // call and libnftnl duplicates them.
        with_c_array(items, |a| unsafe {
            sys::nftnl_chain_set_array(self.0, attr as u16, a)
        });
        self
    }

    /// The attributes of a NEWCHAIN message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_chain_nlmsg_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_rule`.
    Rule(sys::nftnl_rule) {
        alloc: sys::nftnl_rule_alloc,
        free: sys::nftnl_rule_free,
        set_u32: sys::nftnl_rule_set_u32,
        set_u64: sys::nftnl_rule_set_u64,
        set_str: sys::nftnl_rule_set_str,
        set_data: sys::nftnl_rule_set_data,
    }
}

impl Rule {
    /// Appends an expression, which the rule owns from now on.
    pub fn expr(self, e: Expr) -> Self {
        let p = e.into_raw();
        // SAFETY: both live; the rule takes ownership of `p`.
        unsafe { sys::nftnl_rule_add_expr(self.0, p) };
        self
    }

    /// The attributes of a NEWRULE message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_rule_nlmsg_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_set`.
    Set(sys::nftnl_set) {
        alloc: sys::nftnl_set_alloc,
        free: sys::nftnl_set_free,
        set_u32: sys::nftnl_set_set_u32,
        set_u64: sys::nftnl_set_set_u64,
        set_str: sys::nftnl_set_set_str,
        set_data: sys::nftnl_set_set_data,
    }
}

impl Set {
    /// Sets the one set expression (`NFTNL_SET_EXPR`), owned by the set
    /// from now on.
    pub fn expr(self, e: Expr) -> Self {
        let p = e.into_raw();
        // SAFETY: both live; libnftnl stores (owns) the pointer.
        unsafe {
            sys::nftnl_set_set_data(self.0, sys::NFTNL_SET_EXPR as u16, p as *const c_void, 0)
        };
        self
    }

    /// Appends a set expression (`NFTNL_SET_EXPRESSIONS` once there are
    /// several), owned by the set from now on.
    pub fn add_expr(self, e: Expr) -> Self {
        let p = e.into_raw();
        // SAFETY: both live; the set takes ownership of `p`.
        unsafe { sys::nftnl_set_add_expr(self.0, p) };
        self
    }

    /// Appends an element, owned by the set from now on.
    pub fn elem(self, e: SetElem) -> Self {
        let p = e.0;
        std::mem::forget(e);
        // SAFETY: both live; the set takes ownership of `p`.
        unsafe { sys::nftnl_set_elem_add(self.0, p) };
        self
    }

    /// The attributes of a NEWSET message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_set_nlmsg_build_payload(nlh, self.0) })
    }

    /// The attributes of a NEWSETELEM message for this set's elements.
    pub fn elems_attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_set_elems_nlmsg_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_set_elem`.
    SetElem(sys::nftnl_set_elem) {
        alloc: sys::nftnl_set_elem_alloc,
        free: sys::nftnl_set_elem_free,
        set_u32: sys::nftnl_set_elem_set_u32,
        set_u64: sys::nftnl_set_elem_set_u64,
        set_str: sys::nftnl_set_elem_set_str,
        set_data: sys::nftnl_set_elem_set,
    }
}

impl SetElem {
    /// Appends a stateful expression, owned by the element from now on.
    pub fn add_expr(self, e: Expr) -> Self {
        let p = e.into_raw();
        // SAFETY: both live; the element takes ownership of `p`.
        unsafe { sys::nftnl_set_elem_add_expr(self.0, p) };
        self
    }

    /// The attributes libnftnl writes inside one element nest.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_set_elem_nlmsg_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_obj`.
    Obj(sys::nftnl_obj) {
        alloc: sys::nftnl_obj_alloc,
        free: sys::nftnl_obj_free,
        set_u32: sys::nftnl_obj_set_u32,
        set_u64: sys::nftnl_obj_set_u64,
        set_str: sys::nftnl_obj_set_str,
        set_data: sys::nftnl_obj_set_data,
    }
}

impl Obj {
    /// Sets a u8 attribute.
    pub fn u8(self, attr: u32, v: u8) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_obj_set_u8(self.0, attr as u16, v) };
        self
    }

    /// Sets a u16 attribute.
    pub fn u16(self, attr: u32, v: u16) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_obj_set_u16(self.0, attr as u16, v) };
        self
    }

    /// The attributes of a NEWOBJ message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_obj_nlmsg_build_payload(nlh, self.0) })
    }
}

wrapper! {
    /// `struct nftnl_flowtable`.
    Flowtable(sys::nftnl_flowtable) {
        alloc: sys::nftnl_flowtable_alloc,
        free: sys::nftnl_flowtable_free,
        set_u32: sys::nftnl_flowtable_set_u32,
        set_u64: sys::nftnl_flowtable_set_u64,
        set_str: sys::nftnl_flowtable_set_str,
        set_data: sys::nftnl_flowtable_set_data,
    }
}

impl Flowtable {
    /// Sets a signed 32-bit attribute (the priority).
    pub fn s32(self, attr: u32, v: i32) -> Self {
        // SAFETY: `self.0` is live; the value is copied.
        unsafe { sys::nftnl_flowtable_set_s32(self.0, attr as u16, v) };
        self
    }

    /// Sets the device list.
    pub fn array(self, attr: u32, items: &[&str]) -> Self {
        // SAFETY: `self.0` is live; the array and its strings outlive the
        // call and libnftnl duplicates them.
        with_c_array(items, |a| unsafe {
            sys::nftnl_flowtable_set_array(self.0, attr as u16, a)
        });
        self
    }

    /// The attributes of a NEWFLOWTABLE message.
    pub fn attrs(&self) -> Vec<u8> {
        // SAFETY: live header and object.
        nlmsg_attrs(|nlh| unsafe { sys::nftnl_flowtable_nlmsg_build_payload(nlh, self.0) })
    }
}
