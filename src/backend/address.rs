//! A request that never reached AWS names where it was going. The SDK's
//! connection errors say what failed (`Connection refused`, a DNS lookup)
//! but not the address; an interceptor on every client keeps the address
//! each request is sent to and puts it in front of such an error, so a
//! wrong `--endpoint-url` or a network without AWS reads as one line:
//! `cannot reach https://sts.us-east-1.amazonaws.com: ...`.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Where this operation's request went: scheme, host and port.
#[derive(Clone, Debug)]
struct Address(String);

impl Storable for Address {
    type Storer = StoreReplace<Self>;
}

/// The scheme, host and port of `uri`: not its path or query, nor a user
/// and password written before the host (each may carry an account ID or
/// a token, and none says where).
fn origin(uri: &str) -> String {
    let (scheme, rest) = match uri.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), uri),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}{host}")
}

/// The interceptor every client of the run carries.
#[derive(Debug, Default)]
pub struct NamesTheAddress;

impl Intercept for NamesTheAddress {
    fn name(&self) -> &'static str {
        "NamesTheAddress"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let address = Address(origin(context.request().uri()));
        cfg.interceptor_state().store_put(address);
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Address(address)) = cfg.load::<Address>().cloned() else {
            return Ok(());
        };
        if let Some(Err(error)) = context.output_or_error_mut()
            && let Some(connector) = error.as_connector_error()
        {
            let said: BoxError = format!(
                "cannot reach {address}: {}",
                super::sdk_error::causes(connector)
            )
            .into();
            // The same kind of failure it was: a timeout stays a timeout.
            // (This runs once the request is done: the retries are ours,
            // throttle.rs, on the error this becomes.)
            let named = match (connector.is_timeout(), connector.is_user()) {
                (true, _) => ConnectorError::timeout(said),
                (false, true) => ConnectorError::user(said),
                (false, false) => ConnectorError::io(said),
            };
            *error = OrchestratorError::connector(named);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_address_is_where_not_what() {
        assert_eq!(
            origin("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity"),
            "https://sts.us-east-1.amazonaws.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:9/getAlternateContact"),
            "http://127.0.0.1:9"
        );
        assert_eq!(origin("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            origin("https://user:s3cret@proxy.example:8443/path?token=x"),
            "https://proxy.example:8443",
            "a user and password written in the address are no one's to read"
        );
    }
}
