//! Records the git commit the binary is built from, for `--version`.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|commit| commit.trim().to_owned())
        .filter(|commit| !commit.is_empty())
        // A source archive has no .git: say so rather than guess.
        .unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=ALTCONTACTS_GIT_COMMIT={commit}");
    // Where the release's docs are, set by whoever releases it (the
    // release workflow sets it to the tag's docs/): findings link there.
    // Without it they link nowhere, rather than to a placeholder.
    println!("cargo:rerun-if-env-changed=ALTCONTACTS_DOCS_URL");
    if let Ok(url) = std::env::var("ALTCONTACTS_DOCS_URL") {
        let plain = url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`".contains(&b));
        if !url.starts_with("https://") || !plain {
            panic!(
                "ALTCONTACTS_DOCS_URL must be an https:// address of the release's docs folder, without quotes or spaces: {url:?}"
            );
        }
    }
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    println!("cargo:rerun-if-changed=.git/packed-refs");
}
