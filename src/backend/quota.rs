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

/// The quota each operation is paced at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub get: Quota,
    pub put: Quota,
    pub delete: Quota,
    /// GetContactInformation and PutContactInformation.
    pub primary_get: Quota,
    pub primary_put: Quota,
}

impl Limits {
    /// AWS's published quotas, with `get`, `put` and `delete` (from `--rate`
    /// or the file's `rate:`) in place of theirs where given.
    pub fn aws(get: Option<f64>, put: Option<f64>, delete: Option<f64>) -> Self {
        let pick = |default: Quota, rate: Option<f64>| {
            rate.map_or(default, |rate| Quota::scaled(default, rate))
        };
        Self {
            get: pick(AWS_GET, get),
            put: pick(AWS_PUT, put),
            delete: pick(AWS_DELETE, delete),
            primary_get: AWS_PRIMARY_GET,
            primary_put: AWS_PRIMARY_PUT,
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
