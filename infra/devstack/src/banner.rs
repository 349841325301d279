//! What `devstack up` prints once the stack is ready: the API URL, tokens
//! for the demo tenant's roles, and curl commands to try.

use std::time::Duration;

use crate::oidc::{MintError, SigningKey, TokenRequest, mint};
use crate::state::StackState;

/// Demo principals: (shell variable, role, subject).
pub const DEMO_PRINCIPALS: [(&str, &str, &str); 4] = [
    ("ZD_USER", "tenant_user", "alice@demo.example"),
    ("ZD_MANAGER", "tenant_manager", "carol@demo.example"),
    ("ZD_ADMIN", "tenant_admin", "root@demo.example"),
    ("ZD_AUDITOR", "tenant_auditor", "auditor@demo.example"),
];

/// Tokens printed at start-up last a working day.
pub const BANNER_TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

pub fn render(state: &StackState, key: &SigningKey) -> Result<String, MintError> {
    let api = &state.api_url;
    let mut out = String::new();
    out.push_str(&format!(
        "\nzerodesk local stack is ready\n  API      {api}\n"
    ));
    out.push_str(&format!(
        "  issuer   {} (JWKS {api}/.well-known/jwks.json), audience {}\n",
        state.issuer, state.audience
    ));
    out.push_str(&format!(
        "  OpenAPI  {api}/openapi.json\n  AWS      {} (moto)\n\n",
        state.moto_endpoint
    ));
    out.push_str("Tokens for tenant `demo` (valid 12 h; more with `cargo run -q -p devstack -- token --tenant demo --role <role> --sub <email>`):\n");
    for (var, role, subject) in DEMO_PRINCIPALS {
        let token = mint(
            key,
            &state.issuer,
            &state.audience,
            &state.claim_names(),
            &TokenRequest {
                tenant: Some("demo".to_owned()),
                role: role.to_owned(),
                subject: subject.to_owned(),
                lifetime: BANNER_TOKEN_LIFETIME,
                scopes: Vec::new(),
            },
        )?;
        out.push_str(&format!("  # {role} {subject}\n  export {var}={token}\n"));
    }
    out.push_str(&format!(
        "\nTry:\n  \
         # file a self-service reset ticket as alice\n  \
         curl -s -X POST {api}/tickets -H \"authorization: Bearer $ZD_USER\" -H 'content-type: application/json' \\\n    \
         -d '{{\"subject\":\"Forgot my password\",\"body\":\"I forgot my password, please reset it\"}}'\n  \
         # reset (the temporary password is shown once); TICKET is the \"id\" of the ticket filed above\n  \
         export TICKET=<id>\n  \
         curl -s -X POST {api}/tickets/$TICKET/reset -H \"authorization: Bearer $ZD_USER\"\n  \
         # read the audit trail as the auditor\n  \
         curl -s {api}/audit -H \"authorization: Bearer $ZD_AUDITOR\"\n\n\
         Fire the retention schedule now: cargo run -q -p devstack -- invoke retention-purge\n\
         Ctrl-C stops everything.\n"
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::authorizer::JwtAuthorizer;

    #[test]
    fn the_banner_tokens_are_accepted_by_the_stacks_authorizer() {
        let key = SigningKey::load_or_create(&crate::testing::temp_dir("banner")).unwrap();
        let state = StackState {
            pid: 1,
            api_url: "http://127.0.0.1:3000".to_owned(),
            admin_url: "http://127.0.0.1:1".to_owned(),
            issuer: "http://127.0.0.1:3000".to_owned(),
            audience: "zerodesk-local".to_owned(),
            moto_endpoint: "http://127.0.0.1:2".to_owned(),
            claim_tenant: "tenant_id".to_owned(),
            claim_role: "role".to_owned(),
            claim_subject: "sub".to_owned(),
            claim_email: "email".to_owned(),
            ports: vec![],
        };
        let text = render(&state, &key).unwrap();
        let authz = JwtAuthorizer::new(
            &state.issuer,
            vec![state.audience.clone()],
            "$request.header.Authorization",
            &key.jwks(),
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut roles = Vec::new();
        for line in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("export ZD_"))
        {
            let token = line.split_once('=').unwrap().1;
            let mut headers = http::HeaderMap::new();
            headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
            let verified = authz.authorize(&headers, None, &[], now).unwrap();
            assert_eq!(verified.claims["tenant_id"], "demo");
            roles.push(verified.claims["role"].clone());
        }
        assert_eq!(
            roles,
            [
                "tenant_user",
                "tenant_manager",
                "tenant_admin",
                "tenant_auditor"
            ]
        );
        assert!(text.contains("curl -s -X POST http://127.0.0.1:3000/tickets "));
    }
}
