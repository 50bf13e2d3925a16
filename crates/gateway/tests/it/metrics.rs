//! `/metrics`: fetched, parsed and checked against the traffic sent —
//! counters increased by exactly that traffic, histogram buckets present,
//! the limiter and log-writer series rendered, and no label whose values a
//! client controls (request ids, unknown model names, groups, tokens).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::support::Gateway;
use crate::support::admin::{chat, error_channel, fake_channel, search_until};

/// One sample: metric name and sorted labels → value.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("number in `{line}`"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("closing brace");
                let mut labels = BTreeMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name.to_owned(), labels)
            }
        };
        out.insert((name, labels), value);
    }
    out
}

fn get(s: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    s.get(&(name.to_owned(), want)).copied().unwrap_or(0.0)
}

async fn scrape(gw: &Gateway) -> (String, Samples) {
    let r = gw
        .http
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test]
async fn metrics_count_the_traffic_with_bounded_labels() {
    let gw = Gateway::start(&[]).await;
    gw.model("metric-ok").await;
    gw.model("metric-bad").await;
    let ok = fake_channel(
        &gw,
        "ok",
        &["metric-ok"],
        json!({"usage": {"input_tokens": 7, "output_tokens": 5, "cached_tokens": 2}}),
    )
    .await;
    let bad = error_channel(&gw, "bad", &["metric-bad"], 400, "nope").await;
    let key = gw
        .token("team-secret-group", json!({"name": "secret-token"}))
        .await;
    let (_, before) = scrape(&gw).await;
    let ok_s = ok.to_string();
    let bad_s = bad.to_string();
    let ok_labels = [
        ("channel", ok_s.as_str()),
        ("model", "metric-ok"),
        ("status_class", "2xx"),
    ];
    let bad_labels = [
        ("channel", bad_s.as_str()),
        ("model", "metric-bad"),
        ("status_class", "4xx"),
    ];
    assert_eq!(
        get(&before, "switchyard_model_requests_total", &ok_labels),
        0.0
    );

    let mut ids = Vec::new();
    for _ in 0..3 {
        let a = gw
            .post("/v1/chat/completions", &key, &chat("metric-ok"))
            .await;
        assert_eq!(a.status, 200);
        ids.push(a.request_id());
    }
    let a = gw
        .post("/v1/chat/completions", &key, &chat("metric-bad"))
        .await;
    assert_eq!(a.status, 400);
    ids.push(a.request_id());
    let a = gw
        .post("/v1/chat/completions", &key, &chat("no-such-model-xyz"))
        .await;
    assert_eq!(a.status, 404);
    ids.push(a.request_id());
    search_until(&gw, "per_page=1", |d| d["total"] == 5).await;

    let (text, after) = scrape(&gw).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        get(&after, name, labels) - get(&before, name, labels)
    };
    assert_eq!(delta("switchyard_model_requests_total", &ok_labels), 3.0);
    assert_eq!(delta("switchyard_model_requests_total", &bad_labels), 1.0);
    assert_eq!(
        delta(
            "switchyard_model_requests_total",
            &[("channel", "0"), ("model", ""), ("status_class", "4xx")]
        ),
        1.0,
        "an unknown model is counted without its name"
    );
    let tokens = |kind: &str| {
        delta(
            "switchyard_tokens_total",
            &[
                ("channel", ok_s.as_str()),
                ("kind", kind),
                ("model", "metric-ok"),
            ],
        )
    };
    assert_eq!(
        (tokens("input"), tokens("output"), tokens("cached")),
        (21.0, 15.0, 6.0)
    );
    // Histograms: cumulative buckets ending in +Inf, with _count and _sum.
    let mut inf = ok_labels.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        delta("switchyard_request_duration_seconds_bucket", &inf),
        3.0
    );
    assert_eq!(
        delta("switchyard_request_duration_seconds_count", &ok_labels),
        3.0
    );
    let buckets = after
        .keys()
        .filter(|(n, l)| {
            n == "switchyard_request_duration_seconds_bucket"
                && l.get("model").map(String::as_str) == Some("metric-ok")
        })
        .count();
    assert!(buckets > 10, "one series per bucket bound: {buckets}");
    let ttfb = [("channel", ok_s.as_str()), ("model", "metric-ok")];
    assert_eq!(delta("switchyard_ttfb_seconds_count", &ttfb), 3.0);
    // The request-path series, by mode and status class: three answered,
    // two refused (the upstream's 400 and the unknown model's 404); only
    // the four that reached an upstream have an upstream time and overhead.
    let chat = [("mode", "chat")];
    assert_eq!(
        delta(
            "switchyard_requests_total",
            &[("code", "2xx"), ("mode", "chat")]
        ),
        3.0
    );
    assert_eq!(
        delta(
            "switchyard_requests_total",
            &[("code", "4xx"), ("mode", "chat")]
        ),
        2.0
    );
    assert_eq!(delta("switchyard_response_time_seconds_count", &chat), 5.0);
    assert_eq!(delta("switchyard_upstream_time_seconds_count", &chat), 4.0);
    assert_eq!(
        delta("switchyard_gateway_overhead_seconds_count", &chat),
        4.0
    );
    assert!(text.contains("switchyard_gateway_overhead_seconds_bucket"));
    assert_eq!(
        delta(
            "switchyard_upstream_errors_total",
            &[("channel", bad_s.as_str()), ("status_class", "4xx")]
        ),
        1.0
    );
    for kind in ["rpm", "tpm", "concurrency", "quota"] {
        assert!(
            after.contains_key(&(
                "switchyard_limiter_rejections_total".to_owned(),
                BTreeMap::from([("kind".to_owned(), kind.to_owned())])
            )),
            "limiter series `{kind}` is rendered"
        );
    }
    assert!(delta("switchyard_log_entries_written_total", &[]) >= 5.0);
    assert!(get(&after, "switchyard_log_write_seconds_count", &[]) >= 1.0);
    assert!(after.contains_key(&("switchyard_log_queue_depth".to_owned(), BTreeMap::new())));
    assert_eq!(
        get(
            &after,
            "switchyard_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );

    // Cardinality: only known label names; no client-controlled value anywhere.
    let allowed: BTreeSet<&str> = [
        "mode",
        "code",
        "model",
        "channel",
        "status_class",
        "kind",
        "version",
        "le",
        "quantile",
    ]
    .into();
    for (name, labels) in after.keys() {
        for k in labels.keys() {
            assert!(allowed.contains(k.as_str()), "{name} has label `{k}`");
        }
    }
    for needle in ids.iter().map(String::as_str).chain([
        "no-such-model-xyz",
        "team-secret-group",
        "secret-token",
    ]) {
        assert!(!text.contains(needle), "`{needle}` leaked into /metrics");
    }
    gw.stop().await;
}
