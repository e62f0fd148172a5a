//! Compiles the SQL catalogs into the binary, so that adding a job or a tag is adding a
//! file and the binary works from any directory: every `sql/jobs/*.sql` into
//! `builtin_jobs.rs` (`BUILTIN_JOBS`) and every `sql/tags/*.sql` into `tag_files.rs`
//! (the tag catalog). Each is a `&[(path relative to the crate, SQL)]` expression,
//! sorted by path.

use std::fmt::Write as _;
use std::path::Path;

fn embed(dir: &str, out_file: &str) {
    // The crate being compiled, read when the script runs (not `env!`, fixed when the
    // script was compiled: clones that share a target directory share this script).
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join(dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut code = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(&root).unwrap_or(path);
        // Relative to the crate being compiled, not to this script's run: worktrees that
        // share a target directory share OUT_DIR too.
        let rel = rel.display().to_string();
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rel}\"))),"
        );
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join(out_file);
    std::fs::write(out, code).unwrap_or_else(|e| panic!("write {out_file}: {e}"));
}

fn main() {
    embed("sql/jobs", "builtin_jobs.rs");
    embed("sql/tags", "tag_files.rs");
}
