//! The release the action and the GitLab component download in the loop
//! tests: this build's binary, packed as the release workflow packs it and
//! signed with a key made for the tests.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use crate::support::run_checked;

/// The release the action downloads: this build's binary, packed as the
/// release workflow packs it and signed with a key made for the tests.
pub struct Release {
    pub dir: PathBuf,
    /// The tests' key, in the allowed-signers format of `.github/release-signers`.
    pub signers: String,
    pub assets: Vec<(String, Arc<Vec<u8>>)>,
}

pub fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a release folder").keep();
        run_checked(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "test-release", "-f"])
                .arg(dir.join("key")),
        );
        let public = std::fs::read_to_string(dir.join("key.pub")).expect("the public key");
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        let signers = format!(
            "# the tests' release key\naltcontacts-release namespaces=\"altcontacts-release\" {}\n",
            public.join(" ")
        );
        // Smaller without debug information: every run downloads it.
        let binary = dir.join("altcontacts");
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&binary)
            .arg(env!("CARGO_BIN_EXE_altcontacts"))
            .status()
            .is_ok_and(|status| status.success());
        if !stripped {
            std::fs::copy(env!("CARGO_BIN_EXE_altcontacts"), &binary).expect("copy the binary");
        }
        let archive = format!("altcontacts-{}.tar.gz", target());
        run_checked(
            Command::new("tar")
                .current_dir(&dir)
                .args(["-czf", &archive, "altcontacts"]),
        );
        run_checked(Command::new("ssh-keygen").current_dir(&dir).args([
            "-Y",
            "sign",
            "-q",
            "-f",
            "key",
            "-n",
            "altcontacts-release",
            &archive,
        ]));
        let read = |name: &str| Arc::new(std::fs::read(dir.join(name)).expect("an asset"));
        let signature = format!("{archive}.sig");
        let assets = vec![
            (archive.clone(), read(&archive)),
            (signature.clone(), read(&signature)),
        ];
        Release {
            dir,
            signers,
            assets,
        }
    })
}

/// The release target the action picks for this runner.
pub fn target() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    }
}

/// The tag the action downloads by default: the version in Cargo.toml.
pub fn release_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// Another release, signed with the very key the tests' release is: what
/// someone who can serve the pinned tag's files could put there (an older,
/// signed release of the tool). Its `altcontacts` says it is 0.0.9 and,
/// run otherwise, prints `owned`.
pub fn another_signed_release() -> Vec<(String, Arc<Vec<u8>>)> {
    let release = release();
    let dir = tempfile::tempdir().expect("a folder");
    std::fs::write(
        dir.path().join("altcontacts"),
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'altcontacts 0.0.9 (0123456789ab)'; else echo owned; fi\n",
    )
    .unwrap();
    run_checked(
        Command::new("chmod")
            .arg("755")
            .arg(dir.path().join("altcontacts")),
    );
    let archive = format!("altcontacts-{}.tar.gz", target());
    run_checked(Command::new("tar").current_dir(dir.path()).args([
        "-czf",
        &archive,
        "altcontacts",
    ]));
    run_checked(
        Command::new("ssh-keygen")
            .current_dir(dir.path())
            .args(["-Y", "sign", "-q", "-f"])
            .arg(release.dir.join("key"))
            .args(["-n", "altcontacts-release", &archive]),
    );
    let read = |name: &str| Arc::new(std::fs::read(dir.path().join(name)).expect("an asset"));
    let signature = format!("{archive}.sig");
    vec![
        (archive.clone(), read(&archive)),
        (signature.clone(), read(&signature)),
    ]
}
