//! The packaging check: the built `.deb` unpacked into a clean root
//! (`dpkg-deb -x`, as dpkg would install it), its control data and files as a desktop
//! expects them, and the unpacked binary started under Xvfb to its first screen.

use std::path::PathBuf;

use muster_e2e::{App, fresh_dir, profile, root};
use tokio::process::Command;

fn the_deb() -> PathBuf {
    // Where Cargo builds: CARGO_TARGET_DIR when set, as scripts/e2e and Tauri honour it.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let dir = target.join(profile()).join("bundle/deb");
    let mut debs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/e2e builds the bundles)", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one .deb in {}: {debs:?}", dir.display());
    debs.remove(0)
}

async fn dpkg_deb(args: &[&str]) -> String {
    let out = Command::new("dpkg-deb")
        .args(args)
        .output()
        .await
        .expect("dpkg-deb runs");
    assert!(
        out.status.success(),
        "dpkg-deb {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deb_installs_into_a_clean_root_and_starts_to_its_first_screen() {
    let deb = the_deb();
    let deb_text = deb.to_str().expect("a UTF-8 path");

    // Control data: the name, the architecture, and each runtime library once.
    assert_eq!(
        dpkg_deb(&["-f", deb_text, "Package"]).await.trim(),
        "muster"
    );
    assert_eq!(
        dpkg_deb(&["-f", deb_text, "Architecture"]).await.trim(),
        "amd64"
    );
    let depends = dpkg_deb(&["-f", deb_text, "Depends"]).await;
    let mut libraries: Vec<&str> = depends.trim().split(", ").collect();
    for needed in ["libwebkit2gtk-4.1-0", "libgtk-3-0"] {
        assert!(libraries.contains(&needed), "Depends: {depends}");
    }
    let listed = libraries.len();
    libraries.sort_unstable();
    libraries.dedup();
    assert_eq!(
        libraries.len(),
        listed,
        "Depends names a package twice: {depends}"
    );

    // Unpacked into a root of its own.
    let root = fresh_dir("package").join("root");
    std::fs::create_dir_all(&root).expect("the root");
    dpkg_deb(&["-x", deb_text, root.to_str().expect("UTF-8")]).await;
    let binary = root.join("usr/bin/muster-desktop");
    assert!(binary.is_file(), "{} is in the package", binary.display());
    let entry = std::fs::read_to_string(root.join("usr/share/applications/Muster.desktop"))
        .expect("a desktop entry");
    for line in [
        "Exec=muster-desktop",
        "Icon=muster-desktop",
        "Type=Application",
    ] {
        assert!(
            entry.lines().any(|l| l == line),
            "{line} missing from:\n{entry}"
        );
    }
    for size in ["32x32", "128x128", "512x512"] {
        let icon = root.join(format!(
            "usr/share/icons/hicolor/{size}/apps/muster-desktop.png"
        ));
        let png = std::fs::read(&icon).unwrap_or_else(|e| panic!("{}: {e}", icon.display()));
        assert!(png.starts_with(b"\x89PNG"), "{} is a PNG", icon.display());
    }

    // The unpacked app starts to its first screen: a new user's Connections screen.
    let home = fresh_dir("package-home");
    let app = App::launch_binary(&binary, &home).await;
    app.find("profile-name").await;
    app.find("profile-url").await;
    app.screenshot("package-01-first-screen").await;
    app.close().await;
}
