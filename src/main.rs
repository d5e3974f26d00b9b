use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(altcontacts::main_exit_code())
}
