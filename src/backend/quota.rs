//! The Account API's published quotas, and the quota each operation of a
//! run is paced at.

/// Requests per second and burst for one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    pub rate: f64,
    pub burst: f64,
}

/// The Account API's published quotas (requests per second, burst).
pub const AWS_GET: Quota = Quota {
    rate: 10.0,
    burst: 15.0,
};
pub const AWS_PUT: Quota = Quota {
    rate: 5.0,
    burst: 8.0,
};
pub const AWS_DELETE: Quota = Quota {
    rate: 1.0,
    burst: 6.0,
};
/// GetContactInformation and PutContactInformation, the primary contact's.
pub const AWS_PRIMARY_GET: Quota = Quota {
    rate: 10.0,
    burst: 15.0,
};
pub const AWS_PRIMARY_PUT: Quota = Quota {
    rate: 5.0,
    burst: 8.0,
};

/// AWS User Notifications publishes no request quota for its managed
/// notification calls; these stay well under what one account is served,
/// and the pacer slows further on ThrottlingException. They count per
/// account: each account answers for itself, through its member role.
pub const NOTICES_READ: Quota = Quota {
    rate: 5.0,
    burst: 10.0,
};
pub const NOTICES_WRITE: Quota = Quota {
    rate: 2.0,
    burst: 4.0,
};

/// AWS in China publishes lower quotas for the same operations.
pub const CN_GET: Quota = Quota {
    rate: 3.0,
    burst: 4.0,
};
pub const CN_PUT: Quota = Quota {
    rate: 1.0,
    burst: 2.0,
};
pub const CN_PRIMARY_PUT: Quota = Quota {
    rate: 1.0,
    burst: 2.0,
};

/// Security Hub's published quotas: BatchImportFindings 10/s (burst 30),
/// GetFindings 3/s (burst 6), BatchUpdateFindings 10/s (burst 30).
pub const HUB_IMPORT: Quota = Quota {
    rate: 10.0,
    burst: 30.0,
};
pub const HUB_UPDATE: Quota = Quota {
    rate: 10.0,
    burst: 30.0,
};
pub const HUB_GET_FINDINGS: Quota = Quota {
    rate: 3.0,
    burst: 6.0,
};

/// sts:AssumeRole, into member roles. STS publishes no quota for it; this
/// is well under what accounts see in practice, and the pacer adapts to
/// throttling below it.
pub const ASSUME_ROLE: Quota = Quota {
    rate: 100.0,
    burst: 20.0,
};

/// The partitions with the Account API, each with its published quotas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
}

impl Partition {
    /// A partition as an ARN names it; `None` for one without the Account API.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "aws" => Some(Self::Aws),
            "aws-cn" => Some(Self::China),
            _ => None,
        }
    }
}

impl Quota {
    /// No limit.
    pub const UNLIMITED: Quota = Quota {
        rate: f64::INFINITY,
        burst: f64::INFINITY,
    };

    /// A quota at `rate`, its burst scaled from `default` in proportion, so
    /// `get=100` keeps AWS's shape (15 / 10) at ten times the speed.
    pub fn scaled(default: Quota, rate: f64) -> Quota {
        Quota {
            rate,
            burst: (default.burst * rate / default.rate).max(1.0),
        }
    }
}

/// Requests a run keeps in flight at once. Enough that latency does not hold
/// throughput below the rate (at 100 requests/s and 500 ms, 50 are needed),
/// few enough that token reservations stay short.
pub const IN_FLIGHT: usize = 64;

/// Requests in flight at once with a member role: each account has quotas
/// of its own, so the pace is AssumeRole's and the round trips'. At 100
/// accounts a second, three reads each and up to a second per account
/// (AssumeRole, then its reads), some 300 are needed.
pub const MEMBER_IN_FLIGHT: usize = 384;

/// The quota each operation is paced at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub get: Quota,
    pub put: Quota,
    pub delete: Quota,
    /// GetContactInformation and PutContactInformation.
    pub primary_get: Quota,
    pub primary_put: Quota,
    /// ListManagedNotificationChannelAssociations, and
    /// AssociateManagedNotificationAccountContact.
    pub notices_read: Quota,
    pub notices_write: Quota,
}

impl Limits {
    /// The partition's published quotas, with `get`, `put` and `delete`
    /// (from `--rate` or the file's `rate:`) in place of theirs where given.
    pub fn aws(
        partition: Partition,
        get: Option<f64>,
        put: Option<f64>,
        delete: Option<f64>,
    ) -> Self {
        let published = match partition {
            Partition::Aws => Self {
                get: AWS_GET,
                put: AWS_PUT,
                delete: AWS_DELETE,
                primary_get: AWS_PRIMARY_GET,
                primary_put: AWS_PRIMARY_PUT,
                notices_read: NOTICES_READ,
                notices_write: NOTICES_WRITE,
            },
            Partition::China => Self {
                get: CN_GET,
                put: CN_PUT,
                delete: AWS_DELETE,
                primary_get: CN_GET,
                primary_put: CN_PRIMARY_PUT,
                notices_read: NOTICES_READ,
                notices_write: NOTICES_WRITE,
            },
        };
        let pick = |default: Quota, rate: Option<f64>| {
            rate.map_or(default, |rate| Quota::scaled(default, rate))
        };
        Self {
            get: pick(published.get, get),
            put: pick(published.put, put),
            delete: pick(published.delete, delete),
            ..published
        }
    }

    /// The sandbox's: no limit, but for the rates given (`--rate`,
    /// `rate:`), to see how long a run at AWS's pace takes, or to try Ctrl-C.
    pub fn sandbox(get: Option<f64>, put: Option<f64>, delete: Option<f64>) -> Self {
        let pick = |default: Quota, rate: Option<f64>| {
            rate.map_or(Quota::UNLIMITED, |rate| Quota::scaled(default, rate))
        };
        Self {
            get: pick(AWS_GET, get),
            put: pick(AWS_PUT, put),
            delete: pick(AWS_DELETE, delete),
            primary_get: Quota::UNLIMITED,
            primary_put: Quota::UNLIMITED,
            notices_read: Quota::UNLIMITED,
            notices_write: Quota::UNLIMITED,
        }
    }

    /// No limit: the sandbox.
    pub fn unlimited() -> Self {
        let none = Quota {
            rate: f64::INFINITY,
            burst: f64::INFINITY,
        };
        Self {
            get: none,
            put: none,
            delete: none,
            primary_get: none,
            primary_put: none,
            notices_read: none,
            notices_write: none,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_quota_keeps_the_burst_ratio() {
        assert_eq!(
            Quota::scaled(AWS_GET, 100.0),
            Quota {
                rate: 100.0,
                burst: 150.0
            }
        );
        assert_eq!(
            Quota::scaled(AWS_DELETE, 0.5),
            Quota {
                rate: 0.5,
                burst: 3.0
            }
        );
    }
}
