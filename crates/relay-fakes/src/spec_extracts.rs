//! The trimmed copies of the platforms' specifications the fakes are checked against
//! (`specs/*.extract.json`, committed so tests pass without `../shared`): reading one, and
//! checking it against the full specification when that is present
//! (`RELAY_SPECS_DIR`, else `../shared/specs`; `RELAY_WRITE_SPEC_EXTRACTS=1` rewrites it).

use serde_json::Value;
use std::path::PathBuf;

/// The committed extract `specs/<name>`.
pub(crate) fn committed(name: &str) -> Value {
    let path = extract_path(name);
    let text = std::fs::read_to_string(&path).expect("the extract is in the repository");
    serde_json::from_str(&text).expect("the extract is JSON")
}

fn extract_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("specs")
        .join(name)
}

/// Checks `specs/<name>` against `extract` of the full specification `full_name`, when it
/// is present (skipped with a message otherwise).
pub(crate) fn check_against_full(full_name: &str, name: &str, extract: impl Fn(&Value) -> Value) {
    let dir = std::env::var_os("RELAY_SPECS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
        PathBuf::from,
    );
    let Ok(text) = std::fs::read_to_string(dir.join(full_name)) else {
        eprintln!("skipped: no {full_name} in {}", dir.display());
        return;
    };
    let full: Value = serde_json::from_str(&text).expect("the description is JSON");
    let fresh = extract(&full);
    if std::env::var_os("RELAY_WRITE_SPEC_EXTRACTS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).expect("serialize") + "\n";
        std::fs::write(extract_path(name), text).expect("write the extract");
        return;
    }
    assert!(
        fresh == committed(name),
        "specs/{name} is not what {} says now; rerun this test with RELAY_WRITE_SPEC_EXTRACTS=1, \
         then let the other tests here show what the fake must change",
        dir.display()
    );
}
