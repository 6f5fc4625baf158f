//! An initramfs image: a tree of directories, files, symlinks and device
//! nodes written as an uncompressed `newc` cpio archive (the format the
//! kernel unpacks into its rootfs).
//!
//! Written here rather than with `cpio(1)` so that every entry is owned by
//! root whatever the host files are, no tool needs installing, and the
//! archive stays uncompressed: under TCG the guest gunzips slowly, while an
//! uncompressed archive is only copied.
//!
//! The tree is merged-/usr: `bin`, `sbin`, `lib`, `lib64` are symlinks into
//! `usr/`, and paths given as `/lib/…` are stored under `usr/lib/…`, so
//! libraries land where `ldd` says and the dynamic loader finds them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
enum Entry {
    Dir,
    /// Contents read from a host file when the archive is written.
    HostFile {
        source: PathBuf,
        mode: u32,
    },
    Bytes {
        data: Vec<u8>,
        mode: u32,
    },
    Symlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
}

/// The tree to archive; keys are normalized paths without a leading `/`.
#[derive(Debug, Default, Clone)]
pub struct Image {
    entries: BTreeMap<String, Entry>,
}

const MERGED: [(&str, &str); 4] = [
    ("bin", "usr/bin"),
    ("sbin", "usr/sbin"),
    ("lib", "usr/lib"),
    ("lib64", "usr/lib64"),
];

impl Image {
    pub fn new() -> Self {
        let mut img = Image::default();
        for (link, target) in MERGED {
            img.add_dir(target);
            img.entries
                .insert(link.to_string(), Entry::Symlink(target.to_string()));
        }
        img
    }

    /// `/lib/x/y` → `usr/lib/x/y`.
    fn normalize(path: &str) -> String {
        let p = path.trim_start_matches('/').trim_end_matches('/');
        for (link, target) in MERGED {
            if let Some(rest) = p.strip_prefix(link) {
                if rest.is_empty() || rest.starts_with('/') {
                    return format!("{target}{rest}");
                }
            }
        }
        p.to_string()
    }

    fn add_parents(&mut self, path: &str) {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i];
            self.entries.entry(dir.to_string()).or_insert(Entry::Dir);
            at += i + 1;
        }
    }

    fn insert(&mut self, path: &str, e: Entry) {
        let p = Self::normalize(path);
        self.add_parents(&p);
        self.entries.insert(p, e);
    }

    pub fn add_dir(&mut self, path: &str) {
        let p = Self::normalize(path);
        self.add_parents(&p);
        self.entries.entry(p).or_insert(Entry::Dir);
    }

    /// A host file's contents (symlinks followed) at `guest`, mode from
    /// the host file.
    pub fn add_host_file(&mut self, source: &Path, guest: &str) -> Result<(), String> {
        let meta =
            std::fs::metadata(source).map_err(|e| format!("reading {}: {e}", source.display()))?;
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        self.insert(
            guest,
            Entry::HostFile {
                source: source.to_path_buf(),
                mode,
            },
        );
        Ok(())
    }

    pub fn add_bytes(&mut self, guest: &str, data: impl Into<Vec<u8>>, mode: u32) {
        self.insert(
            guest,
            Entry::Bytes {
                data: data.into(),
                mode,
            },
        );
    }

    pub fn add_symlink(&mut self, guest: &str, target: &str) {
        self.insert(guest, Entry::Symlink(target.to_string()));
    }

    pub fn add_char_device(&mut self, guest: &str, major: u32, minor: u32) {
        self.insert(guest, Entry::CharDevice { major, minor });
    }

    /// Copies a host directory tree (files and symlinks) under `guest`.
    pub fn add_host_tree(&mut self, source: &Path, guest: &str) -> Result<(), String> {
        let rd =
            std::fs::read_dir(source).map_err(|e| format!("reading {}: {e}", source.display()))?;
        self.add_dir(guest);
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let g = format!("{}/{name}", guest.trim_end_matches('/'));
            let ft = e
                .file_type()
                .map_err(|err| format!("reading {}: {err}", path.display()))?;
            if ft.is_symlink() {
                let t = std::fs::read_link(&path)
                    .map_err(|err| format!("reading {}: {err}", path.display()))?;
                self.add_symlink(&g, &t.to_string_lossy());
            } else if ft.is_dir() {
                self.add_host_tree(&path, &g)?;
            } else {
                self.add_host_file(&path, &g)?;
            }
        }
        Ok(())
    }

    /// Whether something is stored at `guest`.
    pub fn contains(&self, guest: &str) -> bool {
        self.entries.contains_key(&Self::normalize(guest))
    }

    /// Writes the archive; returns its size in bytes.
    pub fn write(&self, out: &Path) -> Result<u64, String> {
        let f = File::create(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
        let mut w = CpioWriter {
            out: BufWriter::with_capacity(1 << 20, f),
            written: 0,
            next_ino: 1,
        };
        let err = |e: std::io::Error| format!("writing {}: {e}", out.display());
        // BTreeMap order puts every directory before what it contains.
        for (path, entry) in &self.entries {
            match entry {
                Entry::Dir => w.entry(path, 0o040_755, 0, &[]).map_err(err)?,
                Entry::Bytes { data, mode } => {
                    w.entry(path, 0o100_000 | mode, 0, data).map_err(err)?
                }
                Entry::Symlink(t) => w.entry(path, 0o120_777, 0, t.as_bytes()).map_err(err)?,
                Entry::CharDevice { major, minor } => w
                    .entry(path, 0o020_600, (major << 8) | minor, &[])
                    .map_err(err)?,
                Entry::HostFile { source, mode } => {
                    let data = std::fs::read(source)
                        .map_err(|e| format!("reading {}: {e}", source.display()))?;
                    w.entry(path, 0o100_000 | mode, 0, &data).map_err(err)?
                }
            }
        }
        w.entry("TRAILER!!!", 0, 0, &[]).map_err(err)?;
        w.out.flush().map_err(err)?;
        Ok(w.written)
    }
}

struct CpioWriter<W: Write> {
    out: W,
    written: u64,
    next_ino: u32,
}

impl<W: Write> CpioWriter<W> {
    /// One newc record: header, NUL-terminated name, data, each padded to
    /// 4 bytes. `rdev` packs a device's major (<< 8) and minor.
    fn entry(&mut self, name: &str, mode: u32, rdev: u32, data: &[u8]) -> std::io::Result<()> {
        let ino = self.next_ino;
        self.next_ino += 1;
        let header = format!(
            "070701{ino:08x}{mode:08x}{uid:08x}{gid:08x}{nlink:08x}{mtime:08x}{size:08x}{maj:08x}{min:08x}{rmaj:08x}{rmin:08x}{namesize:08x}{check:08x}",
            uid = 0,
            gid = 0,
            nlink = if mode & 0o170_000 == 0o040_000 { 2 } else { 1 },
            mtime = 0,
            size = data.len(),
            maj = 0,
            min = 0,
            rmaj = rdev >> 8,
            rmin = rdev & 0xff,
            namesize = name.len() + 1,
            check = 0,
        );
        self.put(header.as_bytes())?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.pad()?;
        self.put(data)?;
        self.pad()
    }

    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.written += b.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> std::io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.put(&[0u8; 3][..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_merged_usr() {
        assert_eq!(
            Image::normalize("/lib/x86_64-linux-gnu/libc.so.6"),
            "usr/lib/x86_64-linux-gnu/libc.so.6"
        );
        assert_eq!(
            Image::normalize("/lib64/ld-linux-x86-64.so.2"),
            "usr/lib64/ld-linux-x86-64.so.2"
        );
        assert_eq!(Image::normalize("/library/x"), "library/x");
        assert_eq!(Image::normalize("/sbin"), "usr/sbin");
    }

    #[test]
    fn archive_is_newc_with_parents_first() {
        let mut img = Image::new();
        img.add_bytes("/etc/vm/jobs", b"abc".to_vec(), 0o644);
        img.add_char_device("/dev/console", 5, 1);
        let dir = std::env::temp_dir().join(format!("vm-tests-cpio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("t.cpio");
        let size = img.write(&out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(size as usize, bytes.len());
        assert_eq!(bytes.len() % 4, 0);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("070701"));
        let etc = text.find("etc\0").unwrap();
        let jobs = text.find("etc/vm/jobs\0").unwrap();
        assert!(etc < jobs);
        assert!(text.contains("abc"));
        assert!(text.ends_with("TRAILER!!!\0\0\0\0") || text.contains("TRAILER!!!\0"));
        // /dev/console: mode 020600, rdev 5:1.
        let console = text.find("dev/console\0").unwrap();
        let header = &text[console - 110..console];
        assert_eq!(&header[14..22], "00002180");
        assert_eq!(&header[78..86], "00000005");
        assert_eq!(&header[86..94], "00000001");
    }
}
