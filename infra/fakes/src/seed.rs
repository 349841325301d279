//! The people and credentials the fakes start with: organisations (one per
//! customer domain), their users, and the TEST-ONLY credentials each fake
//! accepts. Nothing here is a real secret or a real tenant.

/// TEST-ONLY RSA private key (PKCS#8 PEM) of the fake Google service account
/// and Okta service app. Published on purpose; protects nothing.
pub const TEST_ONLY_PRIVATE_KEY_PEM: &str =
    include_str!("../testdata/test-only-service-account-private-key.pem");

/// The public half, which the fakes verify assertions against.
pub const TEST_ONLY_PUBLIC_KEY_PEM: &str =
    include_str!("../testdata/test-only-service-account-public-key.pem");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedState {
    Active,
    /// Locked out: Google suspends with `WEB_LOGIN_REQUIRED`, Entra has
    /// `accountEnabled: false`, Okta is `LOCKED_OUT`.
    LockedOut,
    /// Suspended by an administrator: Google `ADMIN`, Entra disabled, Okta
    /// `SUSPENDED`.
    SuspendedByAdmin,
    /// Must change the password at next sign-in (after a reset).
    PasswordExpired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    /// Google super admin, Entra Global Administrator, Okta Super Admin.
    pub admin: bool,
    /// Group names; each fake gives every group of an organisation its own
    /// immutable id in the provider's format.
    pub groups: Vec<String>,
    /// Other addresses of the same account: Google aliases, Entra
    /// `proxyAddresses`, Okta's `email` when it differs from the login.
    pub aliases: Vec<String>,
    /// Google organisational unit path.
    pub org_unit: String,
    pub state: SeedState,
    /// Google `recoveryEmail`, the Graph email authentication method.
    pub recovery_email: Option<String>,
    /// Phones in E.164: Google's `recoveryPhone` is the mobile one, Graph
    /// lists them all as phone authentication methods.
    pub phones: Vec<SeedPhone>,
    /// Okta factor enrollments, in the order Okta lists them.
    pub factors: Vec<SeedFactor>,
}

/// Graph's `phoneType`: only a mobile phone takes SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    Mobile,
    AlternateMobile,
    Office,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPhone {
    pub kind: PhoneKind,
    /// E.164, for example `+15555550101`.
    pub number: String,
}

/// An Okta factor enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorKind {
    /// Okta Verify push.
    Push,
    Sms {
        phone: String,
    },
    Email {
        address: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFactor {
    pub kind: FactorKind,
    /// `ACTIVE` when true, `PENDING_ACTIVATION` otherwise.
    pub active: bool,
}

impl SeedUser {
    pub fn new(email: &str, state: SeedState) -> Self {
        let local = email.split('@').next().unwrap_or(email);
        let mut given = local.to_owned();
        if let Some(first) = given.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        Self {
            email: email.to_owned(),
            given_name: given,
            family_name: "Example".to_owned(),
            admin: false,
            groups: vec!["Staff".to_owned()],
            aliases: Vec::new(),
            org_unit: "/Staff".to_owned(),
            state,
            recovery_email: None,
            phones: Vec::new(),
            factors: Vec::new(),
        }
    }

    /// A recovery address: Google `recoveryEmail`, the Graph email method and
    /// an active Okta email factor.
    pub fn with_recovery_email(mut self, address: &str) -> Self {
        self.recovery_email = Some(address.to_owned());
        self.with_factor(
            FactorKind::Email {
                address: address.to_owned(),
            },
            true,
        )
    }

    /// A mobile phone (E.164): Google `recoveryPhone`, the Graph `mobile`
    /// phone method and an active Okta SMS factor.
    pub fn with_recovery_phone(self, number: &str) -> Self {
        self.with_phone(PhoneKind::Mobile, number).with_factor(
            FactorKind::Sms {
                phone: number.to_owned(),
            },
            true,
        )
    }

    /// A Graph phone method of any kind, and nothing else.
    pub fn with_phone(mut self, kind: PhoneKind, number: &str) -> Self {
        self.phones.push(SeedPhone {
            kind,
            number: number.to_owned(),
        });
        self
    }

    /// An active Okta Verify push factor.
    pub fn with_push_factor(self) -> Self {
        self.with_factor(FactorKind::Push, true)
    }

    /// An Okta factor, active or still pending activation.
    pub fn with_factor(mut self, kind: FactorKind, active: bool) -> Self {
        self.factors.push(SeedFactor { kind, active });
        self
    }

    /// The mobile phone, which Google holds as `recoveryPhone`.
    pub fn mobile_phone(&self) -> Option<&str> {
        self.phones
            .iter()
            .find(|p| p.kind == PhoneKind::Mobile)
            .map(|p| p.number.as_str())
    }

    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    pub fn in_groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        self
    }

    pub fn with_alias(mut self, address: &str) -> Self {
        self.aliases.push(address.to_owned());
        self
    }

    /// Whether `key` names this user: the address or an alias, compared
    /// case-insensitively as every provider compares addresses.
    pub fn is_named(&self, key: &str) -> bool {
        self.email.eq_ignore_ascii_case(key)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(key))
    }

    pub fn in_org_unit(mut self, path: &str) -> Self {
        self.org_unit = path.to_owned();
        self
    }
}

/// One customer's directory, as each provider would hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedOrg {
    pub domain: String,
    pub users: Vec<SeedUser>,
    pub google: GoogleOrg,
    pub graph: GraphOrg,
    pub okta: OktaOrg,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleOrg {
    pub client_email: String,
    /// The administrator the service account impersonates.
    pub admin_subject: String,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphOrg {
    pub directory_tenant: String,
    pub client_id: String,
    /// TEST-ONLY.
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaOrg {
    /// TEST-ONLY SSWS token.
    pub api_token: String,
    /// The OAuth service app; its assertions are checked against `public_key_pem`.
    pub client_id: String,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub orgs: Vec<SeedOrg>,
}

impl Seed {
    pub fn org(&self, domain: &str) -> Option<&SeedOrg> {
        self.orgs.iter().find(|o| o.domain == domain)
    }
}

impl SeedOrg {
    /// Every group name its users are in, in first-seen order: the index is
    /// what each fake derives the group's id from.
    pub fn group_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for group in self.users.iter().flat_map(|u| &u.groups) {
            if !names.contains(&group.as_str()) {
                names.push(group);
            }
        }
        names
    }
}

impl SeedOrg {
    /// An organisation with TEST-ONLY credentials derived from its domain.
    pub fn new(
        domain: &str,
        directory_tenant: &str,
        admin_subject: &str,
        users: Vec<SeedUser>,
    ) -> Self {
        let slug: String = domain
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        Self {
            domain: domain.to_owned(),
            users,
            google: GoogleOrg {
                client_email: format!("zerodesk-{slug}@zerodesk-test-only.iam.gserviceaccount.com"),
                admin_subject: admin_subject.to_owned(),
                public_key_pem: TEST_ONLY_PUBLIC_KEY_PEM.to_owned(),
            },
            graph: GraphOrg {
                directory_tenant: directory_tenant.to_owned(),
                client_id: format!("client-{slug}"),
                client_secret: format!("test-only-graph-secret-{slug}"),
            },
            okta: OktaOrg {
                api_token: format!("00test-only-okta-token-{slug}"),
                client_id: format!("0oa-test-only-{slug}"),
                public_key_pem: TEST_ONLY_PUBLIC_KEY_PEM.to_owned(),
            },
        }
    }
}

/// The demo tenant's directory (`demo.example`) and a second customer's
/// (`other.example`) that the demo credentials must never reach.
///
/// demo.example: alice (active), bob (locked out), carol (active, Finance,
/// also known as c.finance@demo.example),
/// dave (suspended by an administrator), root (directory administrator,
/// in enough groups that membership listings take more than one page).
/// other.example: eve (active), frank (locked out), admin (administrator).
///
/// Owner channels: alice has a recovery address, a mobile and an active
/// Okta Verify push; bob an alternate mobile (listed first), a mobile and
/// push; carol a recovery address, only an office phone (no SMS) and Okta
/// push and SMS factors still pending activation; dave and root have none;
/// eve has a mobile and push.
pub fn demo_seed() -> Seed {
    let demo = SeedOrg::new(
        "demo.example",
        "3f2b8c4e-0d1a-4e5f-9a7b-1c2d3e4f5a6b",
        "root@demo.example",
        vec![
            SeedUser::new("alice@demo.example", SeedState::Active)
                .with_recovery_email("alice.personal@mail.example")
                .with_recovery_phone("+15555550101")
                .with_push_factor(),
            SeedUser::new("bob@demo.example", SeedState::LockedOut)
                .with_phone(PhoneKind::AlternateMobile, "+15555550103")
                .with_recovery_phone("+15555550102")
                .with_push_factor(),
            SeedUser::new("carol@demo.example", SeedState::Active)
                .in_groups(&["Finance", "Staff"])
                .with_alias("c.finance@demo.example")
                .in_org_unit("/Finance/Payroll")
                .with_recovery_email("carol.home@mail.example")
                .with_phone(PhoneKind::Office, "+15555550190")
                .with_factor(FactorKind::Push, false)
                .with_factor(
                    FactorKind::Sms {
                        phone: "+15555550192".to_owned(),
                    },
                    false,
                ),
            SeedUser::new("dave@demo.example", SeedState::SuspendedByAdmin),
            SeedUser::new("root@demo.example", SeedState::Active)
                .admin()
                .in_groups(&["IT Admins", "Staff"])
                .in_org_unit("/IT"),
        ],
    );
    let other = SeedOrg::new(
        "other.example",
        "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
        "admin@other.example",
        vec![
            SeedUser::new("eve@other.example", SeedState::Active)
                .with_recovery_phone("+15555550201")
                .with_push_factor(),
            SeedUser::new("frank@other.example", SeedState::LockedOut),
            SeedUser::new("admin@other.example", SeedState::Active)
                .admin()
                .in_org_unit("/IT"),
        ],
    );
    Seed {
        orgs: vec![demo, other],
    }
}

/// A user as a fake holds it, including what the connectors changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: String,
    pub org: usize,
    pub seed: SeedUser,
    pub state: SeedState,
    /// Google: the password field as sent (a SHA-1 hex when hashed);
    /// Graph: the password as sent; Okta: the temporary password it issued.
    pub password: Option<String>,
    pub hash_function: Option<String>,
    pub must_change_password: bool,
    pub sessions_revoked: u32,
}

pub(crate) fn users_of(seed: &Seed, id: impl Fn(usize, usize) -> String) -> Vec<FakeUser> {
    seed.orgs
        .iter()
        .enumerate()
        .flat_map(|(o, org)| {
            let id = &id;
            org.users.iter().enumerate().map(move |(u, user)| FakeUser {
                id: id(o, u),
                org: o,
                seed: user.clone(),
                state: user.state,
                password: None,
                hash_function: None,
                must_change_password: user.state == SeedState::PasswordExpired,
                sessions_revoked: 0,
            })
        })
        .collect()
}
