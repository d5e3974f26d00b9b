//! The files a step writes for the workflow: its outputs
//! (`GITHUB_OUTPUT`) and its job summary (`GITHUB_STEP_SUMMARY`).

use std::io::Write;
use std::path::Path;

use super::{Run, SUMMARY_LIMIT};

/// A workflow file (outputs, job summary) that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WorkflowFileError {
    pub path: String,
    pub source: std::io::Error,
}

fn append(path: &Path, text: &str) -> Result<(), WorkflowFileError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| WorkflowFileError {
            path: path.display().to_string(),
            source,
        })
}

impl Run {
    /// Sets step outputs, each value on as many lines as it needs.
    pub fn set_outputs(&self, outputs: &[(&str, String)]) -> Result<(), WorkflowFileError> {
        let Some(path) = &self.output else {
            return Ok(());
        };
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
        append(path, &text)
    }

    /// How many bytes the job summary can still take: GitHub refuses a
    /// step's summary over 1 MiB, counting what earlier writes put there.
    pub fn summary_room(&self) -> usize {
        let used = self
            .step_summary
            .as_ref()
            .and_then(|path| std::fs::metadata(path).ok())
            .map_or(0, |meta| meta.len() as usize);
        SUMMARY_LIMIT.saturating_sub(used)
    }

    /// Adds to the job summary; `text` must fit [`Run::summary_room`].
    pub fn add_to_summary(&self, text: &str) -> Result<(), WorkflowFileError> {
        match &self.step_summary {
            Some(path) => append(path, text),
            None => Ok(()),
        }
    }
}
