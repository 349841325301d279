//! Tenant-scoped credentials against the local emulator's STS. An interceptor
//! on the STS client records every request body, so the tests see exactly
//! how many AssumeRole calls were made and what they carried.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use zerodesk_aws::{TenantClientsCache, TenantCredentials};
use zerodesk_domain::{Clock, SystemClock};
use zerodesk_domain::{SystemTask, TenantId, TenantScope};
use zerodesk_testkit::{LocalAws, unique_tenant};

#[derive(Debug, Clone, Default)]
struct Recorder {
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn assume_role_bodies(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.contains("Action=AssumeRole"))
            .cloned()
            .collect()
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "request-recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context
            .request()
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        self.bodies.lock().unwrap().push(body.unwrap_or_default());
        Ok(())
    }
}

fn scope(tenant: &str) -> TenantScope {
    TenantScope::for_system_task(
        TenantId::parse(tenant).unwrap(),
        SystemTask::EventDrivenAction,
    )
}

async fn recorded_credentials(clock: impl Clock + 'static) -> (TenantCredentials, Recorder) {
    let aws = LocalAws::shared();
    let base = aws.sdk_config().await;
    let recorder = Recorder::default();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&base)
            .interceptor(recorder.clone())
            .build(),
    );
    let creds = TenantCredentials::new(sts, aws.names.tenant_access_role_arn.clone(), "test")
        .with_clock(clock);
    (creds, recorder)
}

#[tokio::test]
async fn same_tenant_twice_assumes_the_role_once() {
    let (creds, recorder) = recorded_credentials(SystemClock).await;
    let s = scope(&unique_tenant("same"));
    let first = creds.credentials(&s).await.unwrap();
    let second = creds.credentials(&s).await.unwrap();
    assert_eq!(first.access_key_id(), second.access_key_id());
    assert_eq!(recorder.assume_role_bodies().len(), 1);
}

#[tokio::test]
async fn different_tenants_get_different_credentials() {
    let (creds, recorder) = recorded_credentials(SystemClock).await;
    let a = creds
        .credentials(&scope(&unique_tenant("a")))
        .await
        .unwrap();
    let b = creds
        .credentials(&scope(&unique_tenant("b")))
        .await
        .unwrap();
    assert_ne!(a.access_key_id(), b.access_key_id());
    assert_eq!(recorder.assume_role_bodies().len(), 2);
}

#[tokio::test]
async fn assume_role_carries_the_tenant_session_tag_and_session_name() {
    let (creds, recorder) = recorded_credentials(SystemClock).await;
    let tenant = unique_tenant("tagged");
    creds.credentials(&scope(&tenant)).await.unwrap();
    let bodies = recorder.assume_role_bodies();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert!(body.contains("Tags.member.1.Key=tenant_id"), "{body}");
    assert!(
        body.contains(&format!("Tags.member.1.Value={tenant}")),
        "{body}"
    );
    assert!(!body.contains("Tags.member.2"), "exactly one tag: {body}");
    assert!(
        body.contains(&format!("RoleSessionName=zerodesk-{tenant}-test")),
        "{body}"
    );
    assert!(
        body.contains(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fzerodesk-test-tenant-access"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn credentials_are_refreshed_only_within_five_minutes_of_expiry() {
    let offset_secs = Arc::new(AtomicU64::new(0));
    let clock = {
        let offset = Arc::clone(&offset_secs);
        move || {
            chrono::Utc::now()
                + chrono::Duration::seconds(
                    i64::try_from(offset.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
                )
        }
    };
    let (creds, recorder) = recorded_credentials(clock).await;
    let s = scope(&unique_tenant("expiry"));
    let first = creds.credentials(&s).await.unwrap();
    let lifetime = first
        .expiry()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();

    // Six minutes before expiry: still cached.
    offset_secs.store(lifetime.as_secs().saturating_sub(6 * 60), Ordering::SeqCst);
    let cached = creds.credentials(&s).await.unwrap();
    assert_eq!(cached.access_key_id(), first.access_key_id());
    assert_eq!(recorder.assume_role_bodies().len(), 1);

    // Four minutes before expiry: replaced.
    offset_secs.store(lifetime.as_secs().saturating_sub(4 * 60), Ordering::SeqCst);
    let refreshed = creds.credentials(&s).await.unwrap();
    assert_ne!(refreshed.access_key_id(), first.access_key_id());
    assert_eq!(recorder.assume_role_bodies().len(), 2);
}

#[tokio::test]
async fn tenant_clients_are_built_once_per_tenant_and_sign_with_tenant_credentials() {
    let aws = LocalAws::shared();
    let base = aws.sdk_config().await;
    let (creds, recorder) = recorded_credentials(SystemClock).await;
    let cache = TenantClientsCache::new(base, Arc::new(creds));
    let s = scope(&unique_tenant("clients"));
    let first = cache.for_scope(&s).await.unwrap();
    let second = cache.for_scope(&s).await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.tenant(), s.tenant());

    // The client works against the emulator with the assumed credentials.
    let tables = first.dynamodb.list_tables().send().await.unwrap();
    assert!(tables.table_names().contains(&aws.names.tables.tickets));
    let tenant_key = cache.credentials().credentials(&s).await.unwrap();
    assert_ne!(tenant_key.access_key_id(), "testing");
    assert_eq!(recorder.assume_role_bodies().len(), 1);

    let other = cache
        .for_scope(&scope(&unique_tenant("clients-other")))
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&first, &other));
    assert_eq!(recorder.assume_role_bodies().len(), 2);
}

#[tokio::test]
async fn an_unreachable_sts_is_a_transient_error() {
    let base = zerodesk_testkit::sdk_config_for("http://127.0.0.1:9").await;
    let creds = TenantCredentials::new(
        aws_sdk_sts::Client::new(&base),
        "arn:aws:iam::123456789012:role/zerodesk-test-tenant-access",
        "test",
    );
    let err = creds.credentials(&scope("unreachable")).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

/// Stands in for DynamoDB, KMS and Secrets Manager: records the access key
/// each request was signed with and answers with an empty JSON object.
#[derive(Debug, Clone, Default)]
struct SignatureRecorder {
    access_keys: Arc<Mutex<Vec<String>>>,
}

impl HttpConnector for SignatureRecorder {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let auth = request.headers().get("authorization").unwrap_or_default();
        let key = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .unwrap_or_default();
        self.access_keys.lock().unwrap().push(key.to_owned());
        let mut response =
            HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from("{}"));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.1");
        HttpConnectorFuture::ready(Ok(response))
    }
}

#[tokio::test]
async fn tenant_clients_sign_with_the_tenants_current_credentials() {
    let aws = LocalAws::shared();
    let signatures = SignatureRecorder::default();
    let base = {
        let recorder = signatures.clone();
        aws.sdk_config()
            .await
            .to_builder()
            .http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(recorder.clone())
            }))
            .build()
    };
    let offset_secs = Arc::new(AtomicU64::new(0));
    let clock = {
        let offset = Arc::clone(&offset_secs);
        move || {
            chrono::Utc::now()
                + chrono::Duration::seconds(
                    i64::try_from(offset.load(Ordering::SeqCst)).unwrap_or(i64::MAX),
                )
        }
    };
    // STS is the emulator's; the tenant clients talk to the recorder.
    let (creds, _) = recorded_credentials(clock).await;
    let cache = TenantClientsCache::new(base, Arc::new(creds));
    let s = scope(&unique_tenant("signed"));
    let clients = cache.for_scope(&s).await.unwrap();
    let first = cache.credentials().credentials(&s).await.unwrap();

    clients.dynamodb.list_tables().send().await.unwrap();
    clients.kms.list_keys().send().await.unwrap();
    clients.secrets.list_secrets().send().await.unwrap();
    let keys = signatures.access_keys.lock().unwrap().clone();
    assert_eq!(keys, vec![first.access_key_id().to_owned(); 3]);
    assert_ne!(first.access_key_id(), "testing");

    // Near expiry, the same clients sign with the replacement credentials.
    let lifetime = first
        .expiry()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    offset_secs.store(lifetime.as_secs().saturating_sub(60), Ordering::SeqCst);
    clients.dynamodb.list_tables().send().await.unwrap();
    // Back to real time, where the replacement is fresh and served from the cache.
    offset_secs.store(0, Ordering::SeqCst);
    let refreshed = cache.credentials().credentials(&s).await.unwrap();
    assert_ne!(refreshed.access_key_id(), first.access_key_id());
    assert_eq!(
        signatures.access_keys.lock().unwrap().last().unwrap(),
        refreshed.access_key_id()
    );
}
