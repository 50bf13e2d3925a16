//! The CSV log export (header, rows, RFC 4180 escaping of commas, quotes and
//! line breaks, formula defusing, filters, limits, paging over many rows)
//! and client-supplied `X-Request-Id`s.

use serde_json::json;

use crate::support::Gateway;
use crate::support::admin::{admin, assert_error, chat, error_channel, fake_channel, search_until};

/// Parse RFC 4180 CSV (quoted cells may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text
        .strip_prefix('\u{feff}')
        .expect("UTF-8 BOM for spreadsheets");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "complete last line"
    );
    rows
}

async fn export(gw: &Gateway, path: &str) -> (reqwest::header::HeaderMap, Vec<Vec<String>>) {
    let a = admin(gw, "GET", path, None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    (a.headers.clone(), parse_csv(&a.text))
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("column {name}"))
}

const NASTY: &str = "Kaboom, \"quoted\" text\nsecond line";

#[tokio::test]
async fn export_is_valid_csv_with_escaped_content() {
    let gw = Gateway::start(&[]).await;
    gw.model("ok-model").await;
    gw.model("bad-model").await;
    fake_channel(
        &gw,
        "ok",
        &["ok-model"],
        json!({"usage": {"input_tokens": 7, "output_tokens": 5}}),
    )
    .await;
    let bad = error_channel(&gw, "bad", &["bad-model"], 400, NASTY).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let other = gw.token("other", json!({"name": "x"})).await;
    for _ in 0..2 {
        assert_eq!(
            gw.post("/v1/chat/completions", &key, &chat("ok-model"))
                .await
                .status,
            200
        );
    }
    let failing = json!({"model": "bad-model", "user": "=HYPERLINK(\"x\")", "messages": [{"role": "user", "content": "a, \"b\"\nc"}]});
    let a = gw.post("/v1/chat/completions", &key, &failing).await;
    assert_eq!(a.status, 400);
    let failed_id = a.request_id();
    assert_eq!(
        gw.post("/v1/chat/completions", &other, &chat("ok-model"))
            .await
            .status,
        200
    );
    search_until(&gw, "per_page=1", |d| d["total"] == 4).await;

    let (headers, rows) = export(
        &gw,
        "/api/logs/export?include_detail=true&timezone=Asia/Shanghai",
    )
    .await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"global_logs_")
    );
    assert_eq!(
        &rows[0][..5],
        ["id", "created_at", "request_at", "retry_at", "timezone"]
    );
    assert_eq!(rows.len(), 1 + 4, "header and four rows");
    assert!(
        rows.iter().all(|r| r.len() == rows[0].len()),
        "every row has every column"
    );
    let rid = column(&rows, "request_id");
    let failed = rows.iter().find(|r| r[rid] == failed_id).unwrap();
    let content = &failed[column(&rows, "content")];
    assert!(
        content.contains(NASTY),
        "content survives escaping: {content:?}"
    );
    assert_eq!(failed[column(&rows, "code")], "400");
    assert_eq!(failed[column(&rows, "channel")], bad.to_string());
    assert_eq!(
        failed[column(&rows, "user")],
        "'=HYPERLINK(\"x\")",
        "formula defused"
    );
    assert_eq!(failed[column(&rows, "request_body")], failing.to_string());
    assert!(
        failed[column(&rows, "created_at")].ends_with(" CST"),
        "{}",
        failed[1]
    );
    assert_eq!(failed[column(&rows, "timezone")], "Asia/Shanghai");
    let ok_row = rows.iter().skip(1).find(|r| r[rid] != failed_id).unwrap();
    assert_eq!(ok_row[column(&rows, "total_tokens")], "12");

    // Filters, group scope and limits.
    let (_, errors) = export(&gw, "/api/logs/export?code_type=error").await;
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[1][column(&errors, "request_body")],
        "",
        "no bodies unless asked"
    );
    let (_, team) = export(&gw, "/api/log/team/export").await;
    assert_eq!(team.len(), 1 + 3);
    let (_, two) = export(&gw, "/api/logs/export?max_entries=2").await;
    assert_eq!(two.len(), 1 + 2);

    let month = 31 * 24 * 3_600_000_i64;
    let now = switchyard::store::now_ms();
    let a = admin(
        &gw,
        "GET",
        &format!(
            "/api/logs/export?start_timestamp={}&end_timestamp={now}",
            now - month
        ),
        None,
    )
    .await;
    assert_error(&a, 400, "30 days");
    assert_error(
        &admin(&gw, "GET", "/api/logs/export?max_entries=0", None).await,
        400,
        "max_entries",
    );
    assert_error(
        &admin(&gw, "GET", "/api/logs/export?timezone=Nowhere/Land", None).await,
        400,
        "timezone",
    );
    gw.stop().await;
}

#[tokio::test]
async fn export_streams_many_rows_in_pages_without_gaps_or_repeats() {
    let gw = Gateway::start(&[]).await;
    gw.model("ok-model").await;
    fake_channel(&gw, "ok", &["ok-model"], json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let total = 1_203;
    let mut sent = std::collections::BTreeSet::new();
    for chunk in 0..(total / 50 + 1) {
        let mut handles = Vec::new();
        for _ in 0..50.min(total - chunk * 50) {
            let url = format!("{}/v1/chat/completions", gw.url);
            let http = gw.http.clone();
            let key = key.clone();
            handles.push(tokio::spawn(async move {
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .header("content-type", "application/json")
                    .body(chat("ok-model").to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.headers()["x-request-id"].to_str().unwrap().to_owned()
            }));
        }
        for h in handles {
            sent.insert(h.await.unwrap());
        }
    }
    search_until(&gw, "per_page=1", |d| d["total"] == total).await;
    let (_, rows) = export(&gw, &format!("/api/logs/export?max_entries={}", total + 10)).await;
    assert_eq!(rows.len() - 1, total as usize);
    let rid = column(&rows, "request_id");
    let got: std::collections::BTreeSet<String> =
        rows[1..].iter().map(|r| r[rid].clone()).collect();
    assert_eq!(got, sent, "each request exactly once across pages");
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, in order across pages"
    );
    let (_, oldest_first) =
        export(&gw, "/api/logs/export?max_entries=600&order=created_at-asc").await;
    let asc: Vec<i64> = oldest_first[1..]
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert_eq!(asc.len(), 600);
    assert!(asc.windows(2).all(|w| w[0] < w[1]));
    gw.stop().await;
}

#[tokio::test]
async fn client_request_ids_are_validated_echoed_and_logged() {
    let gw = Gateway::start(&[]).await;
    gw.model("ok-model").await;
    fake_channel(&gw, "ok", &["ok-model"], json!({})).await;
    let key = gw.token("team", json!({"name": "ci"})).await;
    let send = |id: String| {
        let req = gw
            .http
            .post(format!("{}/v1/chat/completions", gw.url))
            .bearer_auth(&key)
            .header("x-request-id", id)
            .header("content-type", "application/json")
            .body(chat("ok-model").to_string());
        async move { req.send().await.unwrap() }
    };
    let r = send("client-req_42.a:b".into()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "client-req_42.a:b");
    let row = gw.log_row("client-req_42.a:b").await;
    assert_eq!(row["request_id"], "client-req_42.a:b");
    for bad in [
        "has space".to_owned(),
        "semi;colon".to_owned(),
        "x".repeat(65),
    ] {
        let r = send(bad.clone()).await;
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32, "a generated id: {id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        gw.log_row(&id).await;
    }
    // Errors carry the client's id too.
    let r = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth("sk-wrong")
        .header("x-request-id", "trace-401")
        .header("content-type", "application/json")
        .body(chat("ok-model").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-request-id"], "trace-401");
    gw.stop().await;
}
