//! The whole stack on the repository's template.yaml and real moto, with
//! the echo lambda standing in for every function binary: routes and the
//! authorizer from the template, the functions' resolved environment,
//! EventBridge delivery to the rule targets, `invoke`, the environment
//! files for `sam local` and cargo-lambda, and a clean stop.

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use devstack::binaries::Profile;
use devstack::console::Console;
use devstack::oidc::{TokenRequest, mint};
use devstack::stack::{Stack, StackOptions};
use devstack::state::{StackState, repository_root};
use serde_json::{Value, json};
use zerodesk_template::Template;

async fn wait_for_line(console: &Console, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if console.lines().iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_serves_the_template_with_stand_in_functions_and_stops_clean() {
    let dir = devstack::testing::temp_dir("stack");
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    let template = Template::load(&repository_root().join("template.yaml")).unwrap();
    for f in template.functions().unwrap() {
        std::os::unix::fs::symlink(common::echo_binary(), bins.join(f.binary.unwrap())).unwrap();
    }
    let console = Console::capture();
    let state_dir = dir.join("state");
    let stack = Stack::start(StackOptions {
        root: repository_root(),
        state_dir: state_dir.clone(),
        port: 0,
        profile: Profile::Debug,
        build: false,
        binaries_dir: Some(bins),
        audience: "zerodesk-local".to_owned(),
        pool_size: 1,
        console: console.clone(),
    })
    .await
    .unwrap_or_else(|e| panic!("{}", zerodesk_localaws::error_chain(&e)));
    let state = StackState::load(&state_dir).unwrap();
    assert_eq!(state, stack.state);
    let api = state.api_url.clone();
    let client = reqwest::Client::new();

    // A route of the template, its function, and the environment it got.
    let token = mint(
        &stack.key,
        &state.issuer,
        &state.audience,
        &state.claim_names(),
        &TokenRequest {
            tenant: Some("demo".to_owned()),
            role: "tenant_user".to_owned(),
            subject: "alice@demo.example".to_owned(),
            lifetime: Duration::from_secs(300),
            scopes: vec![],
        },
    )
    .unwrap();
    let reset = client
        .post(format!("{api}/tickets/01JABC/reset"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    let echoed: Value = reset.json().await.unwrap();
    let event = &echoed["event"];
    assert_eq!(event["routeKey"], "POST /tickets/{id}/reset");
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"],
        "demo"
    );
    let env = &echoed["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "zerodesk-local-reset");
    assert_eq!(env["TICKETS_TABLE"], "zerodesk-local-tickets");
    assert_eq!(env["EVENT_BUS_NAME"], "zerodesk-local");
    assert_eq!(env["STAGE"], "local");
    assert!(
        env["KMS_KEY_ID"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:us-east-1:123456789012:key/")
    );
    assert!(
        env["TENANT_ACCESS_ROLE_ARN"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:iam::123456789012:role/")
    );
    assert_eq!(env["AWS_ENDPOINT_URL"], state.moto_endpoint);
    assert!(
        env["GOOGLE_API_BASE_URL"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    // The same environment, written for `sam local invoke --env-vars` and
    // `cargo lambda watch --env-file`.
    let sam: Value =
        serde_json::from_str(&std::fs::read_to_string(state_dir.join("env.json")).unwrap())
            .unwrap();
    for var in [
        "TICKETS_TABLE",
        "KMS_KEY_ID",
        "TENANT_ACCESS_ROLE_ARN",
        "AWS_ENDPOINT_URL",
        "GOOGLE_API_BASE_URL",
        "VERIFY_PAGE_URL",
    ] {
        assert_eq!(sam["ResetFunction"][var], env[var], "{var}");
    }
    let dotenv = std::fs::read_to_string(state_dir.join("lambda-env/reset.env")).unwrap();
    assert!(
        dotenv
            .lines()
            .any(|l| l == format!("AWS_ENDPOINT_URL={}", state.moto_endpoint)),
        "{dotenv}"
    );
    let anonymous = client.post(format!("{api}/tickets")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    // An event on the bus reaches both rule targets as an EventBridge event.
    let config = zerodesk_localaws::sdk_config(&state.moto_endpoint).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name("zerodesk-local")
        .source("zerodesk")
        .detail_type("TicketTriaged")
        .detail(
            json!({"decision": "auto_resolve", "category": "account_unlock", "tenant_id": "demo"})
                .to_string(),
        )
        .build();
    events.put_events().entries(entry).send().await.unwrap();
    assert!(
        wait_for_line(
            &console,
            "TicketTriaged delivered: zerodesk-local-unlock-auto-resolve -> UnlockFunction"
        )
        .await
    );
    assert!(
        wait_for_line(
            &console,
            "TicketTriaged delivered: zerodesk-local-audit-write -> AuditWriteFunction"
        )
        .await
    );

    // The demo tenants are seeded through the store and the vault.
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    for tenant in ["demo", "other"] {
        let item = dynamodb
            .get_item()
            .table_name("zerodesk-local-tenants")
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!("TENANT#{tenant}")),
            )
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("TENANT".to_owned()),
            )
            .send()
            .await
            .unwrap();
        assert!(item.item().is_some(), "tenant {tenant} is seeded");
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        let secret = secrets
            .get_secret_value()
            .secret_id(format!("zerodesk/local/tenants/{tenant}/directory"))
            .send()
            .await
            .unwrap();
        let stored = secret.secret_string().unwrap();
        assert!(
            !stored.contains("PRIVATE KEY"),
            "the stored credential is sealed, not plaintext"
        );
    }

    // `invoke` fires the retention schedule's event now.
    let fired: Value = client
        .post(format!("{}/invoke/retention-purge", state.admin_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fired["ok"], true, "{fired}");
    assert_eq!(fired["payload"]["event"]["detail-type"], "Scheduled Event");
    assert!(
        fired["report"]
            .as_str()
            .is_some_and(|r| r.starts_with("[retention-purge] REPORT RequestId:")),
        "{fired}"
    );
    assert!(
        console
            .lines()
            .iter()
            .any(|l| l.contains("[retention-purge] REPORT RequestId:"))
    );

    let ports = state.ports.clone();
    let moto_pid = stack.moto_pid().unwrap();
    stack.stop().await;
    for port in ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open: {:?}",
            state
        );
    }
    assert!(!common::pid_alive(moto_pid), "moto still running");
    assert!(StackState::load(&state_dir).is_err(), "stack.json removed");
    assert!(!state_dir.join("env.json").exists(), "env.json removed");
    assert!(!state_dir.join("lambda-env").exists(), "lambda-env removed");
}
