//! The contact-tolerance model shared by `tolerance_score` and `contact_policy`: its
//! parameters (`[tolerance]` in `plinkdb.toml`) and the score formula.
//!
//! Per person (and channel), over the rows before `as_of`:
//! - engagement `e = (R + prior_mean * prior_weight) / (S + prior_weight)` (a Beta
//!   posterior mean), where over the last `engagement_days`, `S` = sends and `R` = half a
//!   point per open plus half a point per click (a clicked send counts 1, an opened one
//!   0.5);
//! - negative load `N = Σ weight(kind) · 0.5^(age_days / half_life_days)` over `unfollow`,
//!   `unsubscribe`, `block` and `report` rows;
//! - tolerance `T = min(1, sqrt(e / target_engagement)) · exp(-N / negative_scale)`, in
//!   [0, 1].

use std::collections::BTreeMap;

use datafusion::common::config_err;
use datafusion::error::Result;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Tolerance and contact-policy parameters. Every field has a documented default.
#[derive(Debug, Clone, PartialEq)]
pub struct ToleranceOptions {
    /// Days of sends, opens and clicks the engagement looks at (28, as Einstein).
    pub engagement_days: u32,
    /// Prior mean of the engagement (0.2): what a person without sends is assumed at.
    pub prior_mean: f64,
    /// Prior weight in sends (5): how many sends it takes to move away from the prior.
    pub prior_weight: f64,
    /// Engagement at which the tolerance reaches 1 before penalties (0.3).
    pub target_engagement: f64,
    /// Half-life of negative feedback in days (90).
    pub half_life_days: f64,
    /// Negative load that divides the tolerance by e (5).
    pub negative_scale: f64,
    /// Weight of an `unfollow` (1).
    pub unfollow_weight: f64,
    /// Weight of an `unsubscribe` (4).
    pub unsubscribe_weight: f64,
    /// Weight of a `block` (6).
    pub block_weight: f64,
    /// Weight of a `report` (10).
    pub report_weight: f64,
    /// A block or report on a channel stops it for this many days (180).
    pub hard_stop_days: u32,
    /// Below this tolerance a channel's weekly cap is 0 (0.3).
    pub min_tolerance: f64,
    /// Most sends per rolling 7 days per channel at tolerance 1 (wechat_service 3, wecom 3,
    /// douyin_dm 3, sms 2); the cap is `floor(tolerance · max)`.
    pub weekly_cap: BTreeMap<String, u32>,
    /// Cap for a channel not in `weekly_cap` (2).
    pub default_weekly_cap: u32,
    /// Beijing hour at which quiet hours start (22): no send from then ...
    pub quiet_start_hour: u32,
    /// ... until this Beijing hour (9).
    pub quiet_end_hour: u32,
    /// Send hour when a person's activity gives none (20).
    pub fallback_hour: u32,
    /// Days of activity the preferred hour is taken from (30).
    pub activity_days: u32,
    /// Consent table (`consents`: platform, account_scope, account_id, purpose, channel,
    /// granted_at, withdrawn_at).
    pub consents_table: String,
}

impl Default for ToleranceOptions {
    fn default() -> Self {
        Self {
            engagement_days: 28,
            prior_mean: 0.2,
            prior_weight: 5.0,
            target_engagement: 0.3,
            half_life_days: 90.0,
            negative_scale: 5.0,
            unfollow_weight: 1.0,
            unsubscribe_weight: 4.0,
            block_weight: 6.0,
            report_weight: 10.0,
            hard_stop_days: 180,
            min_tolerance: 0.3,
            weekly_cap: [
                ("wechat_service", 3),
                ("wecom", 3),
                ("douyin_dm", 3),
                ("sms", 2),
            ]
            .into_iter()
            .map(|(c, n)| (c.to_string(), n))
            .collect(),
            default_weekly_cap: 2,
            quiet_start_hour: 22,
            quiet_end_hour: 9,
            fallback_hour: 20,
            activity_days: 30,
            consents_table: "consents".into(),
        }
    }
}

impl ToleranceOptions {
    /// Checks the ranges; the error names the key.
    ///
    /// # Errors
    /// A key outside its range.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("prior_weight", self.prior_weight),
            ("target_engagement", self.target_engagement),
            ("half_life_days", self.half_life_days),
            ("negative_scale", self.negative_scale),
        ];
        for (key, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return config_err!("tolerance.{key} must be a positive number, got {v}");
            }
        }
        let unit = [
            ("prior_mean", self.prior_mean),
            ("min_tolerance", self.min_tolerance),
        ];
        for (key, v) in unit {
            if !(0.0..=1.0).contains(&v) {
                return config_err!("tolerance.{key} must be between 0 and 1, got {v}");
            }
        }
        let weights = [
            ("unfollow_weight", self.unfollow_weight),
            ("unsubscribe_weight", self.unsubscribe_weight),
            ("block_weight", self.block_weight),
            ("report_weight", self.report_weight),
        ];
        for (key, v) in weights {
            if !(v.is_finite() && v >= 0.0) {
                return config_err!("tolerance.{key} must be a number >= 0, got {v}");
            }
        }
        for (key, v) in [
            ("engagement_days", self.engagement_days),
            ("activity_days", self.activity_days),
        ] {
            if v == 0 {
                return config_err!("tolerance.{key} must be at least 1");
            }
        }
        for (key, h) in [
            ("quiet_start_hour", self.quiet_start_hour),
            ("quiet_end_hour", self.quiet_end_hour),
            ("fallback_hour", self.fallback_hour),
        ] {
            if h > 23 {
                return config_err!("tolerance.{key} must be an hour 0..=23, got {h}");
            }
        }
        if self.is_quiet(self.fallback_hour) {
            return config_err!(
                "tolerance.fallback_hour {} falls in the quiet hours {}:00-{}:00",
                self.fallback_hour,
                self.quiet_start_hour,
                self.quiet_end_hour
            );
        }
        if self.consents_table.trim().is_empty() {
            return config_err!("tolerance.consents_table must not be empty");
        }
        Ok(())
    }

    /// Whether a Beijing hour falls in the quiet hours (`[start, end)`, wrapping midnight).
    pub fn is_quiet(&self, hour: u32) -> bool {
        let (s, e) = (self.quiet_start_hour, self.quiet_end_hour);
        if s <= e {
            (s..e).contains(&hour)
        } else {
            hour >= s || hour < e
        }
    }

    /// The weight of a negative feedback kind, `None` for any other kind.
    pub fn negative_weight(&self, kind: &str) -> Option<f64> {
        match kind {
            "unfollow" => Some(self.unfollow_weight),
            "unsubscribe" => Some(self.unsubscribe_weight),
            "block" => Some(self.block_weight),
            "report" => Some(self.report_weight),
            _ => None,
        }
    }

    /// Beta-smoothed engagement from sends and response points (see the module docs).
    pub fn engagement(&self, sends: f64, response: f64) -> f64 {
        let e = (response + self.prior_mean * self.prior_weight) / (sends + self.prior_weight);
        e.clamp(0.0, 1.0)
    }

    /// Decay factor of a negative event `age_ms` old.
    pub fn decay(&self, age_ms: i64) -> f64 {
        let days = age_ms.max(0) as f64 / DAY_MS as f64;
        0.5f64.powf(days / self.half_life_days)
    }

    /// The tolerance in [0, 1] from sends, response points and negative load.
    pub fn score(&self, sends: f64, response: f64, negative: f64) -> f64 {
        let e = self.engagement(sends, response);
        let t =
            (e / self.target_engagement).sqrt().min(1.0) * (-negative / self.negative_scale).exp();
        t.clamp(0.0, 1.0)
    }

    /// The most sends per rolling week on `channel` at tolerance 1.
    pub fn max_weekly(&self, channel: &str) -> u32 {
        self.weekly_cap
            .get(channel)
            .copied()
            .unwrap_or(self.default_weekly_cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_orders_engagement_and_feedback() {
        let o = ToleranceOptions::default();
        // No data: the prior, sqrt(0.2 / 0.3).
        assert!((o.score(0.0, 0.0, 0.0) - (0.2f64 / 0.3).sqrt()).abs() < 1e-12);
        // Engaged people reach 1; ignored sends pull the score down.
        assert_eq!(o.score(10.0, 8.0, 0.0), 1.0);
        assert!(o.score(10.0, 0.0, 0.0) < o.score(0.0, 0.0, 0.0));
        // unfollow < unsubscribe < block < report, and older feedback weighs less.
        let by_kind: Vec<f64> = ["unfollow", "unsubscribe", "block", "report"]
            .iter()
            .map(|k| o.score(4.0, 2.0, o.negative_weight(k).unwrap_or(0.0)))
            .collect();
        assert!(by_kind.windows(2).all(|w| w[0] > w[1]), "{by_kind:?}");
        assert!((o.decay(90 * DAY_MS) - 0.5).abs() < 1e-12);
        assert!(o.decay(180 * DAY_MS) < o.decay(DAY_MS));
        assert_eq!(o.negative_weight("touch_sent"), None);
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_bad_values_are_named() {
        let o = ToleranceOptions::default();
        assert!(o.is_quiet(22) && o.is_quiet(0) && o.is_quiet(8));
        assert!(!o.is_quiet(9) && !o.is_quiet(21));
        assert!(o.validate().is_ok());
        let bad = ToleranceOptions {
            half_life_days: 0.0,
            ..ToleranceOptions::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("half_life_days")
        );
        let bad = ToleranceOptions {
            fallback_hour: 23,
            ..ToleranceOptions::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("fallback_hour")
        );
    }
}
