//! Mail domains: what an address's domain is, whether it is reserved so
//! that mail to it reaches no one, and whether it is within an allowed list.

/// A DNS name of two or more labels, as the file's `audit.email_domains`
/// takes it.
pub const DOMAIN_PATTERN: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$";

pub fn is_domain(text: &str) -> bool {
    static PATTERN: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(DOMAIN_PATTERN).expect("valid pattern"));
    text.len() <= 253 && PATTERN.is_match(text)
}

/// An address as compared with others: `Sec@Corp.io ` is `sec@corp.io`.
pub fn address_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// The domain of an address, lowercased, without a final dot.
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

/// Why mail to `domain` can never be delivered, when it is a name reserved
/// for documentation or testing (RFC 2606, RFC 6761).
pub fn reserved(domain: &str) -> Option<&'static str> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let under = |name: &str| domain == name || domain.ends_with(&format!(".{name}"));
    if ["example.com", "example.net", "example.org"]
        .iter()
        .any(|name| under(name))
    {
        return Some("reserved for documentation (RFC 2606)");
    }
    let tld = domain.rsplit('.').next().unwrap_or_default();
    match tld {
        "example" => Some("under .example, reserved for documentation (RFC 2606)"),
        "test" => Some("under .test, reserved for testing (RFC 2606)"),
        "invalid" => Some("under .invalid, which can never exist (RFC 2606)"),
        "localhost" => Some("localhost, which is never a mail domain (RFC 6761)"),
        _ => None,
    }
}

/// Whether `domain` is one of `allowed` or a subdomain of one.
pub fn within(domain: &str, allowed: &[String]) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|allowed| {
        let allowed = allowed.trim_end_matches('.').to_ascii_lowercase();
        domain == allowed || domain.ends_with(&format!(".{allowed}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_and_their_subdomains_are_found_and_lookalikes_are_not() {
        for name in [
            "example.com",
            "mail.EXAMPLE.org",
            "example.net.",
            "corp.example",
            "qa.test",
            "x.invalid",
            "localhost",
            "box.localhost",
        ] {
            assert!(reserved(name).is_some(), "{name}");
        }
        for name in [
            "example.co",
            "myexample.com",
            "examples.org",
            "test.com",
            "corp.io",
        ] {
            assert_eq!(reserved(name), None, "{name}");
        }
    }

    #[test]
    fn subdomains_of_an_allowed_domain_are_within_it_and_lookalikes_are_not() {
        let allowed = vec!["corp.io".to_owned()];
        assert!(within("corp.io", &allowed));
        assert!(within("Mail.Corp.IO", &allowed));
        assert!(!within("evilcorp.io", &allowed));
        assert!(!within("corp.io.evil.com", &allowed));
        assert_eq!(
            domain_of(" Sec@Mail.Corp.IO. ").as_deref(),
            Some("mail.corp.io")
        );
        assert_eq!(domain_of("nobody"), None);
        assert!(
            is_domain("corp.io")
                && is_domain("a-b.corp.io.")
                && !is_domain("corp")
                && !is_domain("-x.io")
                && !is_domain("a b.io")
        );
    }
}
