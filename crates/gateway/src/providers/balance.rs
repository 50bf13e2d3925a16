//! Provider balance APIs: read what is left on a channel's account, for the
//! channel types whose provider offers one. Called by the admin balance
//! endpoints and the periodic balance check, never on the request path.
//!
//! | type | request (base URL = the channel's, else the type's default) | balance |
//! |---|---|---|
//! | 1 OpenAI | `GET {base}/dashboard/billing/subscription` and `…/usage?start_date&end_date` | `hard_limit_usd − total_usage / 100` |
//! | 20 OpenRouter | `GET {base}/credits` | `data.total_credits − data.total_usage` |
//! | 25 Moonshot | `GET {base}/users/me/balance` | `data.available_balance` |
//! | 36 DeepSeek | `GET {base without /v1}/user/balance` | `balance_infos[0].total_balance` |
//! | 43 SiliconFlow | `GET {base}/user/info` | `data.totalBalance` |

use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use crate::model::channel::Channel;

/// Bound on one balance request.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a balance could not be read.
#[derive(Debug, Error, PartialEq)]
pub enum BalanceError {
    /// The channel's provider has no balance API here.
    #[error("channel type {0} has no balance API")]
    Unsupported(i64),
    /// The request failed.
    #[error("balance request failed: {0}")]
    Request(String),
    /// The provider answered with an error status.
    #[error("the provider answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// The answer lacks the expected fields.
    #[error("unexpected balance answer: {0}")]
    Shape(String),
}

/// Which balance API a channel type uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceApi {
    /// OpenAI billing dashboard endpoints.
    OpenAi,
    /// OpenRouter credits.
    OpenRouter,
    /// Moonshot users/me/balance.
    Moonshot,
    /// DeepSeek user/balance.
    DeepSeek,
    /// SiliconFlow user/info.
    SiliconFlow,
}

/// The balance API of a channel type, if it has one.
pub fn balance_api(channel_type: i64) -> Option<BalanceApi> {
    match channel_type {
        1 => Some(BalanceApi::OpenAi),
        20 => Some(BalanceApi::OpenRouter),
        25 => Some(BalanceApi::Moonshot),
        36 => Some(BalanceApi::DeepSeek),
        43 => Some(BalanceApi::SiliconFlow),
        _ => None,
    }
}

fn base_url(channel: &Channel) -> String {
    let base = if channel.base_url.trim().is_empty() {
        channel
            .type_info()
            .map_or("", |t| t.default_base_url)
            .to_owned()
    } else {
        channel.base_url.trim().to_owned()
    };
    base.trim_end_matches('/').to_owned()
}

/// Read the channel's balance from its provider.
pub async fn fetch(client: &reqwest::Client, channel: &Channel) -> Result<f64, BalanceError> {
    let api =
        balance_api(channel.channel_type).ok_or(BalanceError::Unsupported(channel.channel_type))?;
    let base = base_url(channel);
    let key = channel.key.trim();
    match api {
        BalanceApi::OpenAi => {
            let sub = get(
                client,
                &format!("{base}/dashboard/billing/subscription"),
                key,
            )
            .await?;
            let usage = get(
                client,
                &format!(
                    "{base}/dashboard/billing/usage?start_date={}&end_date={}",
                    chrono_day(-99),
                    chrono_day(1)
                ),
                key,
            )
            .await?;
            let limit = number(&sub, "/hard_limit_usd")?;
            let used_cents = number(&usage, "/total_usage")?;
            Ok(limit - used_cents / 100.0)
        }
        BalanceApi::OpenRouter => {
            let v = get(client, &format!("{base}/credits"), key).await?;
            Ok(number(&v, "/data/total_credits")? - number(&v, "/data/total_usage")?)
        }
        BalanceApi::Moonshot => {
            let v = get(client, &format!("{base}/users/me/balance"), key).await?;
            number(&v, "/data/available_balance")
        }
        BalanceApi::DeepSeek => {
            let root = base.strip_suffix("/v1").unwrap_or(&base);
            let v = get(client, &format!("{root}/user/balance"), key).await?;
            number(&v, "/balance_infos/0/total_balance")
        }
        BalanceApi::SiliconFlow => {
            let v = get(client, &format!("{base}/user/info"), key).await?;
            number(&v, "/data/totalBalance")
        }
    }
}

async fn get(client: &reqwest::Client, url: &str, key: &str) -> Result<Value, BalanceError> {
    let response = client
        .get(url)
        .bearer_auth(key)
        .header(http::header::ACCEPT, "application/json")
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| BalanceError::Request(e.without_url().to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| BalanceError::Request(e.without_url().to_string()))?;
    if !status.is_success() {
        return Err(BalanceError::Status {
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    serde_json::from_str(&text).map_err(|e| BalanceError::Shape(format!("not JSON: {e}")))
}

/// A number at `pointer`, given as a JSON number or a numeric string.
fn number(value: &Value, pointer: &str) -> Result<f64, BalanceError> {
    let field = value
        .pointer(pointer)
        .ok_or_else(|| BalanceError::Shape(format!("`{pointer}` is missing")))?;
    field
        .as_f64()
        .or_else(|| field.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n| n.is_finite())
        .ok_or_else(|| BalanceError::Shape(format!("`{pointer}` is not a number")))
}

/// `YYYY-MM-DD` of today plus `offset` days (UTC).
fn chrono_day(offset: i64) -> String {
    let days = crate::store::now_secs().div_euclid(86_400) + offset;
    let (y, m, d) = crate::model::period::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_numbers_and_strings() {
        let v = serde_json::json!({"a": {"b": "12.5"}, "c": 3, "d": "x"});
        assert_eq!(number(&v, "/a/b").unwrap(), 12.5);
        assert_eq!(number(&v, "/c").unwrap(), 3.0);
        assert!(number(&v, "/d").is_err());
        assert!(number(&v, "/zz").is_err());
    }

    #[test]
    fn civil_dates() {
        use crate::model::period::civil_from_days;
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn supported_types() {
        assert_eq!(balance_api(36), Some(BalanceApi::DeepSeek));
        assert_eq!(balance_api(14), None);
    }
}
