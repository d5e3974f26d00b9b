//! What an AWS SDK failure means for us, whatever the service: the one
//! place SDK errors become [`BackendError`], for `aws.rs` and
//! `security_hub.rs` alike.

use aws_sdk_account::error::{ProvideErrorMetadata, SdkError};

use super::error::BackendError;

/// Maps any SDK failure to what it means for us, by AWS error code first
/// (the same codes across Account, Organizations and STS), then HTTP status.
pub(super) fn classify<E>(error: SdkError<E>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    if let Some(service) = error.as_service_error() {
        let code = service.code().unwrap_or_default();
        let message = service.message().unwrap_or(code).to_owned();
        return match code {
            "AccessDeniedException" | "AccessDenied" => BackendError::AccessDenied(message),
            // Session credentials that ran out: environment credentials are
            // never refreshed, so every request from here on would fail.
            "ExpiredTokenException"
            | "ExpiredToken"
            | "RequestExpired"
            | "TokenRefreshRequired" => BackendError::CredentialsExpired(message),
            "TooManyRequestsException" | "ThrottlingException" | "Throttling" => {
                BackendError::Throttled(message)
            }
            "InternalServerException" | "ServiceException" | "InternalFailure" => {
                BackendError::Server(message)
            }
            "ValidationException" | "InvalidInputException" | "ConstraintViolationException" => {
                BackendError::Invalid(message)
            }
            "AWSOrganizationsNotInUseException" => BackendError::NotInOrganization(message),
            _ => match status {
                Some(429) => BackendError::Throttled(message),
                Some(status) if status >= 500 => BackendError::Server(format!("{code} {message}")),
                _ => BackendError::Other {
                    code: code.to_owned(),
                    message,
                },
            },
        };
    }
    let detail = causes(&error);
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => transport(detail),
        SdkError::ResponseError(_) => match status {
            Some(status) if status >= 500 => BackendError::Server(detail),
            // A response cut short (a dropped connection) is a transport failure.
            _ => transport(detail),
        },
        _ => BackendError::Other {
            code: "RequestFailed".to_owned(),
            message: detail,
        },
    }
}

/// A request that never got an answer, said as one line: the address
/// (`address.rs` names it) and the cause, without the connector's layers.
fn transport(detail: String) -> BackendError {
    let plain = [
        "dispatch failure: ",
        "io error: ",
        "client error (Connect): ",
    ]
    .iter()
    .fold(detail, |text, layer| text.replace(layer, ""));
    BackendError::Transport(match plain.starts_with("cannot reach ") {
        true => plain,
        false => format!("connection failed: {plain}"),
    })
}

/// An error and its causes, each said once, as a person reads them
/// (`dispatch failure: io error: ...: Connection refused (os error 111)`):
/// the SDK's own report adds its types' debug form, which says nothing more.
pub(super) fn causes(error: &dyn std::error::Error) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        // A cause its wrapper already quotes adds nothing.
        if !said.last().is_some_and(|last| last.contains(&text)) {
            said.push(text);
        }
        next = error.source();
    }
    said.join(": ")
}

#[cfg(test)]
mod tests {
    use super::causes;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("tcp connect error: Connection refused (os error 111)")]
    struct Inner;

    #[test]
    fn a_cause_chain_reads_as_a_sentence_without_debug_forms() {
        let said = causes(&Outer(Inner));
        assert_eq!(
            said,
            "dispatch failure: tcp connect error: Connection refused (os error 111)"
        );
        assert!(!said.contains("Inner") && !said.contains('{'));
    }
}
