//! Reading a list a page at a time from a service that hands out the next
//! page (a forge's address, AWS's `NextToken`), written once for every
//! listing: a service that answers a page it gave already, or pages without
//! end, stops the listing with an error that names the call, rather than
//! keeping the run reading (and writing, for what it lists) forever.

use std::collections::HashSet;

/// The most pages one listing is read to: a million items at the forges'
/// 100 a page, 200,000 accounts at Organizations' 20, past any real list
/// and reached in minutes, not never.
pub const PAGE_CAP: usize = 10_000;

/// Why a listing was stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Endless {
    #[error(
        "{call} gave, after page {page}, a next page it had given already: stopped there, since it would answer in a circle"
    )]
    Repeated { call: String, page: usize },
    #[error("{call} had more than {PAGE_CAP} pages: stopped there")]
    TooMany { call: String },
}

/// The pages of one listing read so far, and the next-page tokens seen.
pub struct Pages {
    call: String,
    seen: HashSet<String>,
    read: usize,
}

impl Pages {
    /// The listing `call` names ("Organizations ListAccounts", "list the
    /// comments of pull request #7"), for the error.
    pub fn new(call: impl Into<String>) -> Self {
        Self {
            call: call.into(),
            seen: HashSet::new(),
            read: 0,
        }
    }

    /// Takes the token (or address) of the page about to be read: an error
    /// when it was given before, or when the listing would pass the cap.
    pub fn next(&mut self, token: &str) -> Result<(), Endless> {
        if !self.seen.insert(token.to_owned()) {
            return Err(Endless::Repeated {
                call: self.call.clone(),
                page: self.read,
            });
        }
        if self.read >= PAGE_CAP {
            return Err(Endless::TooMany {
                call: self.call.clone(),
            });
        }
        self.read += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_given_twice_stops_the_listing_and_names_the_call() {
        let mut pages = Pages::new("Organizations ListAccounts");
        assert!(pages.next("a").is_ok());
        assert!(pages.next("b").is_ok());
        let stopped = pages.next("a").unwrap_err();
        assert_eq!(
            stopped,
            Endless::Repeated {
                call: "Organizations ListAccounts".to_owned(),
                page: 2
            }
        );
        assert!(
            stopped
                .to_string()
                .starts_with("Organizations ListAccounts gave")
        );
    }

    #[test]
    fn a_listing_of_fresh_tokens_stops_at_the_cap() {
        let mut pages = Pages::new("list");
        for n in 0..PAGE_CAP {
            pages.next(&n.to_string()).unwrap();
        }
        assert_eq!(
            pages.next("last").unwrap_err(),
            Endless::TooMany {
                call: "list".to_owned()
            }
        );
    }
}
