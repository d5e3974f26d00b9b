//! The files a step writes for its workflow: its outputs (`GITHUB_OUTPUT`)
//! and its job summary (`GITHUB_STEP_SUMMARY`).

use std::path::Path;

use super::SUMMARY_LIMIT;

/// Step outputs as `GITHUB_OUTPUT` takes them, each value on as many lines
/// as it needs.
pub fn outputs(outputs: &[(&str, String)]) -> String {
    let mut text = String::new();
    for (name, value) in outputs {
        if value.contains('\n') {
            // A delimiter no value can contain, as GitHub's toolkit makes them.
            let delimiter = format!("ghadelimiter_{:016x}", fastrand::u64(..));
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    text
}

/// How many bytes the job summary can still take: GitHub refuses a step's
/// summary over 1 MiB, counting what earlier writes put there. None
/// without a summary file.
pub fn summary_room(step_summary: Option<&Path>) -> usize {
    let Some(path) = step_summary else {
        return 0;
    };
    let used = std::fs::metadata(path).map_or(0, |meta| meta.len() as usize);
    SUMMARY_LIMIT.saturating_sub(used)
}
