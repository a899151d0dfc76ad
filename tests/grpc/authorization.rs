//! Every RPC of the four services, as listed by the compiled descriptors (a
//! new RPC without a row fails the test), called as anonymous, with a forged
//! token, as a client, as another client, as an admin, as the order
//! service's service identity and as a guest (a visitor's bag).

use crate::harness::{Shop, as_user, shops};
use atelier_proto::{auth, cart, order, product};
use atelier_runtime::{Identity, IdentityKeys, Role};
use tonic::{Code, Request, Status};

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    Forged,
    Client,
    Other,
    Admin,
    Service,
    Guest,
}

struct Ctx {
    client: String,
    other: String,
    admin: String,
    forged: String,
    service: String,
    guest: String,
    /// Another guest's bag (to merge into a user's cart).
    other_guest: String,
    order_id: String,
    /// A live session of the client (for Authenticate).
    session: String,
}

fn req<T>(ctx: &Ctx, who: Caller, m: T) -> Request<T> {
    match who {
        Caller::Anonymous => Request::new(m),
        Caller::Forged => as_user(&ctx.forged, m),
        Caller::Client => as_user(&ctx.client, m),
        Caller::Other => as_user(&ctx.other, m),
        Caller::Admin => as_user(&ctx.admin, m),
        Caller::Service => as_user(&ctx.service, m),
        Caller::Guest => as_user(&ctx.guest, m),
    }
}

async fn call(shop: &Shop, ctx: &Ctx, rpc: &str, who: Caller) -> Result<(), Status> {
    let (mut a, mut p, mut c, mut o) = (shop.auth.clone(), shop.product.clone(), shop.cart.clone(), shop.order.clone());
    macro_rules! go {
        ($client:ident . $method:ident ($msg:expr)) => {
            $client.$method(req(ctx, who, $msg)).await.map(|_| ())
        };
    }
    match rpc {
        // Public: anyone may try; an empty username fails validation only.
        "auth.Register" => go!(a.register(auth::RegisterRequest::default())),
        "auth.Login" => go!(a.login(auth::LoginRequest { username: "demo-client".into(), password: "demo123".into() })),
        "auth.Logout" => go!(a.logout(auth::LogoutRequest { session_token: "not-a-session".into() })),
        "auth.Authenticate" => {
            go!(a.authenticate(auth::AuthenticateRequest { session_token: ctx.session.clone(), ..Default::default() }))
        }
        // A wrong current password: refused for that, never changed.
        "auth.ChangePassword" => go!(a.change_password(auth::ChangePasswordRequest {
            old_password: "not-the-password".into(),
            new_password: "another long passphrase".into()
        })),
        "auth.GetUser" => go!(a.get_user(auth::GetUserRequest { username: "client-x".into() })),
        "auth.ListUsers" => go!(a.list_users(auth::ListUsersRequest::default())),
        "auth.SetRole" => {
            go!(a.set_role(auth::SetRoleRequest { username: "nobody-here".into(), role: auth::Role::Client as i32 }))
        }
        "auth.UpdateProfile" => go!(a.update_profile(auth::UpdateProfileRequest::default())),
        "product.CreateProduct" => {
            go!(p.create_product(product::CreateProductRequest { name: String::new(), ..Default::default() }))
        }
        "product.UpdateProduct" => go!(p.update_product(product::UpdateProductRequest {
            id: "none".into(),
            name: "x".into(),
            ..Default::default()
        })),
        "product.DeleteProduct" => {
            go!(p.delete_product(product::DeleteProductRequest { id: "none".into() }))
        }
        "product.AddVariant" => go!(p.add_variant(product::AddVariantRequest::default())),
        "product.UpdateVariant" => go!(p.update_variant(product::UpdateVariantRequest::default())),
        "product.DeleteVariant" => go!(p.delete_variant(product::DeleteVariantRequest { code: "NONE-1".into() })),
        "product.Reserve" => go!(p.reserve(product::ReserveRequest {
            order_id: "x".into(),
            lines: vec![product::ReserveLine { code: "TSHIRT-001".into(), quantity: 1, unit_price_cents: None }]
        })),
        "product.Confirm" => go!(p.confirm(product::ConfirmRequest { order_id: "x".into() })),
        "product.Release" => go!(p.release(product::ReleaseRequest { order_id: "x".into() })),
        "product.Facets" => go!(p.facets(product::FacetsRequest {})),
        "product.LowStock" => go!(p.low_stock(product::LowStockRequest { at_most: 5, limit: 10 })),
        "product.ListProducts" => go!(p.list_products(product::ListProductsRequest::default())),
        "product.GetProduct" => go!(p.get_product(product::GetProductRequest { id: "classic-denim-jeans".into() })),
        "product.GetVariants" => go!(p.get_variants(product::GetVariantsRequest { codes: vec!["JEANS-001".into()] })),
        "cart.GetCart" => go!(c.get_cart(cart::GetCartRequest::default())),
        "cart.AddItem" => go!(c.add_item(cart::AddItemRequest { code: "JEANS-001".into(), quantity: 1 })),
        "cart.SetQuantity" => go!(c.set_quantity(cart::SetQuantityRequest { code: "JEANS-001".into(), quantity: 0 })),
        "cart.RemoveItem" => go!(c.remove_item(cart::RemoveItemRequest { code: "JEANS-001".into() })),
        "cart.ClearCart" => go!(c.clear_cart(cart::ClearCartRequest::default())),
        "cart.MergeCart" => go!(c.merge_cart(cart::MergeCartRequest { guest_token: ctx.other_guest.clone() })),
        "cart.CountItems" => go!(c.count_items(cart::CountItemsRequest {})),
        "auth.StartGuest" => go!(a.start_guest(auth::StartGuestRequest {})),
        // The carts are empty: refused for that, after the identity check.
        "order.PlaceOrder" => go!(o.place_order(crate::orders::place("matrix"))),
        "auth.ListAddresses" => go!(a.list_addresses(auth::ListAddressesRequest {})),
        "auth.SaveAddress" => go!(a.save_address(auth::SaveAddressRequest {
            address: Some(auth::Address {
                name: "M".into(),
                line1: "Via Roma 1".into(),
                postcode: "50100".into(),
                city: "Florence".into(),
                country: "Italy".into(),
                ..Default::default()
            }),
            make_default: false
        })),
        "auth.DeleteAddress" => go!(a.delete_address(auth::DeleteAddressRequest { id: "none".into() })),
        "order.GetOrder" => go!(o.get_order(order::GetOrderRequest { id: ctx.order_id.clone() })),
        "order.ListMyOrders" => go!(o.list_my_orders(order::ListMyOrdersRequest::default())),
        "order.ListAllOrders" => go!(o.list_all_orders(order::ListAllOrdersRequest::default())),
        "order.CancelOrder" => go!(o.cancel_order(order::CancelOrderRequest { id: ctx.order_id.clone() })),
        "order.UpdateStatus" => go!(o.update_status(order::UpdateStatusRequest {
            id: ctx.order_id.clone(),
            status: order::Status::Processing as i32
        })),
        "order.Sales" => go!(o.sales(order::SalesRequest { since_ms: vec![0] })),
        other => panic!("unknown rpc {other}"),
    }
}

/// Every RPC the compiled contracts declare, as "auth.Login" etc.
fn declared_rpcs() -> std::collections::BTreeSet<String> {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(atelier_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut rpcs = std::collections::BTreeSet::new();
    for file in set.file {
        // "atelier.auth.v1" -> "auth"
        let package = file.package().split('.').nth(1).unwrap_or_default().to_string();
        for service in &file.service {
            for method in &service.method {
                rpcs.insert(format!("{package}.{}", method.name()));
            }
        }
    }
    rpcs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    use Caller::*;
    const N: Option<Code> = None;
    const U: Option<Code> = Some(Code::Unauthenticated);
    const D: Option<Code> = Some(Code::PermissionDenied);
    const PUBLIC: [Option<Code>; 6] = [N, N, N, N, N, N];
    const ANY_USER: [Option<Code>; 6] = [U, N, N, N, D, D];
    const OWNER: [Option<Code>; 6] = [U, N, D, N, D, D];
    const ADMIN: [Option<Code>; 6] = [U, D, D, N, D, D];
    const SERVICE: [Option<Code>; 6] = [U, D, D, D, N, D];
    // A user's cart, or a guest's bag.
    const SHOPPER: [Option<Code>; 6] = [U, N, N, N, D, N];
    // Expected code per caller (None = allowed; the call may still fail on
    // its arguments, but not on who asked). A forged token is refused
    // wherever an anonymous caller is.
    let matrix: &[(&str, [Option<Code>; 6])] = &[
        // (rpc, [anonymous, client (owner), other client, admin, order service, guest])
        ("auth.Register", PUBLIC),
        ("auth.Login", PUBLIC),
        ("auth.Logout", PUBLIC),
        ("auth.Authenticate", PUBLIC),
        ("auth.ChangePassword", ANY_USER),
        ("auth.UpdateProfile", ANY_USER),
        ("auth.GetUser", OWNER),
        ("auth.ListUsers", ADMIN),
        ("auth.SetRole", ADMIN),
        ("auth.ListAddresses", ANY_USER),
        ("auth.SaveAddress", ANY_USER),
        // Only one's own: a missing id is NotFound, after the identity check.
        ("auth.DeleteAddress", ANY_USER),
        ("product.ListProducts", PUBLIC),
        ("product.GetProduct", PUBLIC),
        ("product.GetVariants", PUBLIC),
        ("product.Facets", PUBLIC),
        ("product.CreateProduct", ADMIN),
        ("product.UpdateProduct", ADMIN),
        ("product.DeleteProduct", ADMIN),
        ("product.AddVariant", ADMIN),
        ("product.UpdateVariant", ADMIN),
        ("product.DeleteVariant", ADMIN),
        ("product.Reserve", SERVICE),
        ("product.Confirm", SERVICE),
        ("product.Release", SERVICE),
        ("product.LowStock", ADMIN),
        ("auth.StartGuest", PUBLIC),
        ("cart.GetCart", SHOPPER),
        ("cart.AddItem", SHOPPER),
        ("cart.SetQuantity", SHOPPER),
        ("cart.RemoveItem", SHOPPER),
        ("cart.ClearCart", SHOPPER),
        ("cart.CountItems", SHOPPER),
        // Into a user's own cart only; a guest cannot take another's bag.
        ("cart.MergeCart", ANY_USER),
        ("order.PlaceOrder", ANY_USER),
        ("order.GetOrder", OWNER),
        ("order.ListMyOrders", ANY_USER),
        ("order.ListAllOrders", ADMIN),
        // Only the customer cancels while processing (admins record returns).
        ("order.CancelOrder", [U, N, D, D, D, D]),
        ("order.UpdateStatus", ADMIN),
        ("order.Sales", ADMIN),
    ];
    let rows: std::collections::BTreeSet<String> = matrix.iter().map(|(rpc, _)| rpc.to_string()).collect();
    assert_eq!(rows, declared_rpcs(), "every declared RPC has exactly one row");
    for shop in shops().await {
        let client = shop.new_client("client-x").await;
        let other = shop.new_client("client-y").await;
        let admin = shop.admin().await;
        let service = shop.keys.signer().unwrap().service_token("order");
        crate::orders::fill_cart(&shop, &client, &[("TSHIRT-001", 1)]).await;
        let order_id = shop
            .order
            .clone()
            .place_order(as_user(&client, crate::orders::place("m")))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap()
            .id;
        let (session, _) = shop.login("demo-client", "demo123").await;
        // A token with admin claims, signed by a key the shop does not trust.
        let forged = IdentityKeys::generate().signer().unwrap().sign(&Identity {
            sub: "x".into(),
            name: "admin".into(),
            role: Role::Admin,
            exp: i64::MAX,
        });
        let guest = || async { shop.auth.clone().start_guest(auth::StartGuestRequest {}).await.unwrap().into_inner() };
        let (guest, other_guest) = (guest().await.identity_token, guest().await.identity_token);
        let ctx = Ctx { client, other, admin, forged, service, guest, other_guest, order_id, session };
        for (rpc, expected) in matrix {
            let forged_expected = if expected[0].is_none() { None } else { U };
            let callers = [(Anonymous, expected[0]), (Forged, forged_expected)].into_iter();
            let callers =
                callers.chain([Client, Other, Admin, Service, Guest].into_iter().zip(expected[1..].iter().copied()));
            for (who, want) in callers {
                let got = call(&shop, &ctx, rpc, who).await.err().map(|s| s.code());
                match want {
                    Some(code) => assert_eq!(got, Some(code), "{rpc} as {who:?} ({})", shop.backend),
                    None => assert!(
                        !matches!(got, Some(Code::Unauthenticated | Code::PermissionDenied)),
                        "{rpc} as {who:?} should be allowed, got {got:?} ({})",
                        shop.backend
                    ),
                }
            }
        }
    }
}
