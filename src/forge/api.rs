//! A forge's API as an adapter calls it: each call says what it does and
//! what the token needs for it, so a failure becomes one `ForgeError` in
//! the adapter's words ([`Words`]) naming the call and what to do.

use hyper::Method;
use serde_json::Value;

use super::ForgeError;
use super::http::{Client, Failure};

/// One call: what it does, for errors ("list the comments of pull
/// request #12"), and what the token needs for it (a GitHub permission, a
/// GitLab role, a Bitbucket scope).
#[derive(Clone, Copy, Debug)]
pub struct Call<'a, N> {
    pub method: &'a Method,
    /// An API path (`/repos/...`) or a full URL (the next page).
    pub path: &'a str,
    pub action: &'a str,
    pub needs: N,
}

/// What an adapter says of its forge's refusals.
pub trait Words: Send + Sync {
    /// What a call needs of the token, in the forge's terms.
    type Needs: Copy + Send + Sync;

    fn forge(&self) -> &'static str;

    /// What to do about a refusal with `status`; `says` is the forge's own
    /// message.
    fn refused(&self, status: u16, says: &str, needs: Self::Needs) -> Option<String>;

    /// What to do when the forge does not answer.
    fn unreachable(&self) -> String;

    /// Why no call can be made yet (the token is not set) and what to do;
    /// `None` when calls can be made.
    fn no_token(&self) -> Option<(String, String)> {
        None
    }
}

pub struct Api<W: Words> {
    pub client: Client,
    pub words: W,
}

impl<W: Words> Api<W> {
    /// The call's failure, in the adapter's words.
    pub fn error(&self, call: Call<'_, W::Needs>, failure: Failure) -> ForgeError {
        let says = match &failure {
            Failure::Refused(answer) => answer.message(),
            _ => String::new(),
        };
        ForgeError::failed(
            self.words.forge(),
            call.action,
            failure,
            |status| self.words.refused(status, &says, call.needs),
            &self.words.unreachable(),
        )
    }

    /// Refuses a call without a token before it is sent.
    fn ready(&self, call: Call<'_, W::Needs>) -> Result<(), ForgeError> {
        match self.words.no_token() {
            None => Ok(()),
            Some((problem, help)) => Err(ForgeError::setup(
                self.words.forge(),
                call.action,
                problem,
                Some(help),
            )),
        }
    }

    /// One call's JSON (`Null` for an empty answer).
    pub async fn json(
        &self,
        call: Call<'_, W::Needs>,
        body: Option<&Value>,
    ) -> Result<Value, ForgeError> {
        self.ready(call)?;
        self.client
            .json(call.method, call.path, body)
            .await
            .map_err(|failure| self.error(call, failure))
    }

    /// One call's JSON, or `None` when the forge refuses it as `absent`
    /// says (a thing it does not have, not a token's lack).
    pub async fn json_if(
        &self,
        call: Call<'_, W::Needs>,
        absent: impl Fn(u16, &str) -> bool,
    ) -> Result<Option<Value>, ForgeError> {
        self.ready(call)?;
        match self.client.json(call.method, call.path, None).await {
            Ok(value) => Ok(Some(value)),
            Err(Failure::Refused(answer)) if absent(answer.status.as_u16(), &answer.message()) => {
                Ok(None)
            }
            Err(failure) => Err(self.error(call, failure)),
        }
    }

    /// One call whose answer is not needed.
    pub async fn send(&self, call: Call<'_, W::Needs>, body: &Value) -> Result<(), ForgeError> {
        self.json(call, Some(body)).await.map(drop)
    }

    /// Every item of a list, on every page.
    pub async fn all_pages(&self, call: Call<'_, W::Needs>) -> Result<Vec<Value>, ForgeError> {
        self.ready(call)?;
        self.client
            .all_pages(call.path)
            .await
            .map_err(|failure| self.error(call, failure))
    }

    /// Every item of a list, or `None` when the forge refuses it as
    /// `absent` says (a feature turned off, not a token's lack).
    pub async fn all_pages_if(
        &self,
        call: Call<'_, W::Needs>,
        absent: impl Fn(u16, &str) -> bool,
    ) -> Result<Option<Vec<Value>>, ForgeError> {
        self.ready(call)?;
        match self.client.all_pages(call.path).await {
            Ok(items) => Ok(Some(items)),
            Err(Failure::Refused(answer)) if absent(answer.status.as_u16(), &answer.message()) => {
                Ok(None)
            }
            Err(failure) => Err(self.error(call, failure)),
        }
    }
}
