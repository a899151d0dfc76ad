use crate::harness::{as_user, shops};
use atelier_proto::auth::*;
use tonic::Code;

fn register(username: &str, password: &str, email: &str, phone: &str) -> RegisterRequest {
    RegisterRequest { username: username.into(), password: password.into(), email: email.into(), phone: phone.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_and_profile() {
    for shop in shops().await {
        let mut auth = shop.auth.clone();
        let user = auth
            .register(register("ada", "analytical", "Ada@Example.com", "+44 20 7946 0000"))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        assert_eq!(
            (user.username.as_str(), user.email.as_str(), user.role()),
            ("ada", "ada@example.com", Role::Client),
            "{}",
            shop.backend
        );

        // Duplicates, whatever the case, are refused and nothing is written.
        for dup in [
            register("ADA", "analytical", "other@example.com", "123456"),
            register("bob", "analytical", "ada@example.com", "123456"),
        ] {
            assert_eq!(auth.register(dup).await.unwrap_err().code(), Code::AlreadyExists);
        }
        // Bad input.
        for bad in [
            register("", "analytical", "x@example.com", "123456"),
            register(&"x".repeat(33), "analytical", "x@example.com", "123456"),
            register("eve<script>", "analytical", "x@example.com", "123456"),
            register("eve", "short", "x@example.com", "123456"),
            register("eve", "analytical", "not-an-email", "123456"),
            register("eve", "analytical", "x@example.com", "call me"),
        ] {
            assert_eq!(auth.register(bad).await.unwrap_err().code(), Code::InvalidArgument);
        }
        let admin = shop.admin().await;
        let users = auth
            .list_users(as_user(&admin, ListUsersRequest { query: "eve".into(), ..Default::default() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(users.total, 0, "nothing written by refused registrations");

        // Wrong passwords and unknown users get the same answer.
        let wrong =
            auth.login(LoginRequest { username: "ada".into(), password: "wrong-password".into() }).await.unwrap_err();
        let unknown = auth
            .login(LoginRequest { username: "nobody".into(), password: "wrong-password".into() })
            .await
            .unwrap_err();
        assert_eq!((wrong.code(), wrong.message()), (unknown.code(), unknown.message()));
        assert_eq!(wrong.code(), Code::Unauthenticated);

        let (session, ada) = shop.login("ada", "analytical").await;
        let me = auth
            .get_user(as_user(&ada, GetUserRequest { username: "ada".into() }))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        assert_eq!(me.id, user.id);
        let updated = auth
            .update_profile(as_user(
                &ada,
                UpdateProfileRequest { email: "lovelace@example.com".into(), phone: String::new() },
            ))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        assert_eq!((updated.email.as_str(), updated.phone.as_str()), ("lovelace@example.com", "+44 20 7946 0000"));
        let taken = auth
            .update_profile(as_user(
                &ada,
                UpdateProfileRequest { email: "admin@example.com".into(), phone: String::new() },
            ))
            .await;
        assert_eq!(taken.unwrap_err().code(), Code::AlreadyExists);

        // Logout ends the session.
        auth.logout(LogoutRequest { session_token: session.clone() }).await.unwrap();
        let ended =
            auth.authenticate(AuthenticateRequest { session_token: session, ..Default::default() }).await.unwrap_err();
        assert_eq!(ended.code(), Code::Unauthenticated);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_every_session() {
    for shop in shops().await {
        let mut auth = shop.auth.clone();
        shop.new_client("grace").await;
        let (laptop, _) = shop.login("grace", "correct horse").await;
        let (phone, grace) = shop.login("grace", "correct horse").await;
        let wrong_old =
            ChangePasswordRequest { old_password: "incorrect".into(), new_password: "new password!".into() };
        assert_eq!(auth.change_password(as_user(&grace, wrong_old)).await.unwrap_err().code(), Code::InvalidArgument);
        let too_short = ChangePasswordRequest { old_password: "correct horse".into(), new_password: "short".into() };
        assert_eq!(auth.change_password(as_user(&grace, too_short)).await.unwrap_err().code(), Code::InvalidArgument);

        let ok = ChangePasswordRequest { old_password: "correct horse".into(), new_password: "new password!".into() };
        let fresh = auth.change_password(as_user(&grace, ok)).await.unwrap().into_inner().session_token;
        for old in [laptop, phone] {
            assert_eq!(
                auth.authenticate(AuthenticateRequest { session_token: old, ..Default::default() })
                    .await
                    .unwrap_err()
                    .code(),
                Code::Unauthenticated
            );
        }
        assert!(auth.authenticate(AuthenticateRequest { session_token: fresh, ..Default::default() }).await.is_ok());
        assert!(auth.login(LoginRequest { username: "grace".into(), password: "correct horse".into() }).await.is_err());
        shop.login("grace", "new password!").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_managed_by_admins_only() {
    for shop in shops().await {
        let mut auth = shop.auth.clone();
        let admin = shop.admin().await;
        let client = shop.new_client("linus").await;
        let (linus_session, _) = shop.login("linus", "correct horse").await;

        let promote = |name: &str| SetRoleRequest { username: name.into(), role: Role::Admin as i32 };
        assert_eq!(auth.set_role(as_user(&client, promote("linus"))).await.unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(
            auth.set_role(as_user(&admin, promote("admin"))).await.unwrap_err().code(),
            Code::PermissionDenied,
            "not your own role"
        );
        assert_eq!(auth.set_role(as_user(&admin, promote("ghost"))).await.unwrap_err().code(), Code::NotFound);
        let bad = SetRoleRequest { username: "linus".into(), role: 42 };
        assert_eq!(auth.set_role(as_user(&admin, bad)).await.unwrap_err().code(), Code::InvalidArgument);

        let user = auth.set_role(as_user(&admin, promote("linus"))).await.unwrap().into_inner().user.unwrap();
        assert_eq!(user.role(), Role::Admin);
        // The role change ended linus's sessions.
        let ended = auth
            .authenticate(AuthenticateRequest { session_token: linus_session, ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(ended.code(), Code::Unauthenticated);

        // Linus (now admin) demotes admin; then nobody may demote linus, the last admin.
        let linus = shop.login("linus", "correct horse").await.1;
        let demote = |name: &str| SetRoleRequest { username: name.into(), role: Role::Client as i32 };
        auth.set_role(as_user(&linus, demote("admin"))).await.unwrap();
        let admins = auth.list_users(as_user(&linus, ListUsersRequest::default())).await.unwrap().into_inner();
        assert_eq!(admins.users.iter().filter(|u| u.role() == Role::Admin).count(), 1);
        // The demoted admin's sessions ended; logging in again gives a client identity.
        let old_admin = shop.login("admin", "admin123").await.1;
        assert_eq!(
            auth.list_users(as_user(&old_admin, ListUsersRequest::default())).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(auth.set_role(as_user(&linus, demote("linus"))).await.unwrap_err().code(), Code::PermissionDenied);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_in_pages() {
    for shop in shops().await {
        for i in 0..5 {
            shop.new_client(&format!("page-user-{i}")).await;
        }
        let admin = shop.admin().await;
        let mut auth = shop.auth.clone();
        let page = |page| ListUsersRequest { query: "page-user".into(), page, per_page: 2 };
        let first = auth.list_users(as_user(&admin, page(1))).await.unwrap().into_inner();
        let third = auth.list_users(as_user(&admin, page(3))).await.unwrap().into_inner();
        assert_eq!((first.total, first.users.len(), third.users.len()), (5, 2, 1));
        assert_eq!(first.users[0].username, "page-user-0");
        assert_eq!(third.users[0].username, "page-user-4");
    }
}

/// The auth service believes a client address only when the gateway vouches
/// for it with its service identity: metadata anyone can send to the auth
/// service neither escapes the limits nor pins failures on someone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_addresses_count_only_when_the_gateway_vouches_for_them() {
    for shop in shops().await {
        let gateway = shop.keys.signer().unwrap().service_token("gateway");
        let client = shop.new_client("someone-else").await;
        let login = |address: &'static str, voucher: Option<&str>, password: &'static str| {
            let mut auth = shop.auth.clone();
            let message = LoginRequest { username: "demo-client".into(), password: password.into() };
            let mut request = match voucher {
                Some(token) => as_user(token, message),
                None => tonic::Request::new(message),
            };
            request.metadata_mut().insert("x-atelier-client-address", address.parse().unwrap());
            async move { auth.login(request).await.map(|_| ()).map_err(|s| s.code()) }
        };
        // Straight to the auth service, naming the owner's address; then
        // with a client's token instead of the gateway's.
        for voucher in [None, None, Some(client.as_str()), None, None] {
            assert_eq!(login("192.0.2.1", voucher, "wrong").await, Err(Code::Unauthenticated));
        }
        assert_eq!(login("192.0.2.1", Some(&gateway), "demo123").await, Ok(()), "{}", shop.backend);
        // Through the gateway, failures count against their own address only.
        for _ in 0..5 {
            assert_eq!(login("192.0.2.2", Some(&gateway), "wrong").await, Err(Code::Unauthenticated));
        }
        assert_eq!(login("192.0.2.2", Some(&gateway), "demo123").await, Err(Code::ResourceExhausted));
        assert_eq!(login("192.0.2.3", Some(&gateway), "demo123").await, Ok(()));
    }
}

/// Placing an order reads the session and the saved addresses in one call:
/// the same addresses, in the same order (default first), as asking for them,
/// and only the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_brings_the_saved_addresses_when_asked() {
    for shop in shops().await {
        let mut auth = shop.auth.clone();
        let address = |name: &str| Address {
            name: name.into(),
            line1: "Via Roma 1".into(),
            postcode: "50100".into(),
            city: "Florence".into(),
            country: "Italy".into(),
            ..Default::default()
        };
        let other = shop.new_client("hopper").await;
        let hopper = SaveAddressRequest { address: Some(address("Grace Hopper")), make_default: true };
        auth.save_address(as_user(&other, hopper)).await.unwrap();
        shop.new_client("lamarr").await;
        let (session, lamarr) = shop.login("lamarr", "correct horse").await;
        for (name, make_default) in [("Hedy Home", false), ("Hedy Studio", true), ("Hedy Depot", false)] {
            let save = SaveAddressRequest { address: Some(address(name)), make_default };
            auth.save_address(as_user(&lamarr, save)).await.unwrap();
        }
        let listed = auth.list_addresses(as_user(&lamarr, ListAddressesRequest {})).await.unwrap().into_inner();

        let asked = AuthenticateRequest { session_token: session.clone(), with_addresses: true };
        let answer = auth.authenticate(asked).await.unwrap().into_inner();
        assert_eq!(answer.user.unwrap().username, "lamarr");
        assert_eq!(answer.addresses, listed.addresses);
        let names: Vec<_> = answer.addresses.iter().map(|a| (a.name.as_str(), a.is_default)).collect();
        assert_eq!(names[0], ("Hedy Studio", true), "the default first: {names:?}");
        assert_eq!(names.len(), 3, "only the caller's: {names:?}");

        let not_asked = AuthenticateRequest { session_token: session, with_addresses: false };
        assert!(auth.authenticate(not_asked).await.unwrap().into_inner().addresses.is_empty());
    }
}
