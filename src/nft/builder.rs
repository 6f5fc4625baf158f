//! High-level rule builder: common matches, with protocol dependencies
//! inserted the way nft inserts them.
