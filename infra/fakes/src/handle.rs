//! The test-side controls every fake handle offers (recorded calls,
//! violations of the published description, faults, users as the fake now
//! holds them), written once and stamped onto each handle type by a macro.

macro_rules! fake_handle_methods {
    () => {
        /// `http://127.0.0.1:<port>`, no trailing slash.
        pub fn base_url(&self) -> String {
            format!("http://{}", self.running.addr)
        }

        pub fn port(&self) -> u16 {
            self.running.addr.port()
        }

        /// Every request received so far, oldest first.
        pub fn calls(&self) -> Vec<$crate::RecordedCall> {
            self.state.controls.calls()
        }

        /// The requests received for one route (`users.get`, `token`, ...).
        pub fn calls_to(&self, route: &str) -> Vec<$crate::RecordedCall> {
            self.calls()
                .into_iter()
                .filter(|c| c.route == route)
                .collect()
        }

        /// The requests the provider's published description does not allow,
        /// oldest first. Each was answered 400 and not handled; its call is
        /// recorded under the route `not_in_published_description`.
        pub fn violations(&self) -> Vec<$crate::Violation> {
            self.state.controls.violations()
        }

        /// Makes one route misbehave until `clear_faults`.
        pub fn fail_route(&self, route: &str, fault: $crate::Fault) {
            self.state.controls.fail_route(route, fault);
        }

        /// Makes every route misbehave until `clear_faults`.
        pub fn fail_all(&self, fault: $crate::Fault) {
            self.state.controls.fail_all(fault);
        }

        pub fn clear_faults(&self) {
            self.state.controls.clear_faults();
        }

        /// The user as the fake now holds it (after any resets or unlocks).
        pub fn user(&self, email: &str) -> Option<$crate::FakeUser> {
            $crate::server::lock(&self.state.users)
                .iter()
                .find(|u| u.seed.email.eq_ignore_ascii_case(email))
                .cloned()
        }
    };
}

pub(crate) use fake_handle_methods;
