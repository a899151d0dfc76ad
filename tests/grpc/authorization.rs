//! Every RPC that needs an identity, called as anonymous, with a forged
//! token, as a client, as another client and as an admin.

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
}

struct Ctx {
    client: String,
    other: String,
    admin: String,
    forged: String,
    order_id: String,
}

fn req<T>(ctx: &Ctx, who: Caller, m: T) -> Request<T> {
    match who {
        Caller::Anonymous => Request::new(m),
        Caller::Forged => as_user(&ctx.forged, m),
        Caller::Client => as_user(&ctx.client, m),
        Caller::Other => as_user(&ctx.other, m),
        Caller::Admin => as_user(&ctx.admin, m),
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
        "cart.GetCart" => go!(c.get_cart(cart::GetCartRequest {})),
        "order.GetOrder" => go!(o.get_order(order::GetOrderRequest { id: ctx.order_id.clone() })),
        "order.ListMyOrders" => go!(o.list_my_orders(order::ListMyOrdersRequest::default())),
        "order.ListAllOrders" => go!(o.list_all_orders(order::ListAllOrdersRequest::default())),
        "order.CancelOrder" => go!(o.cancel_order(order::CancelOrderRequest { id: ctx.order_id.clone() })),
        "order.UpdateStatus" => go!(o.update_status(order::UpdateStatusRequest {
            id: ctx.order_id.clone(),
            status: order::Status::Processing as i32
        })),
        other => panic!("unknown rpc {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    use Caller::*;
    const U: Option<Code> = Some(Code::Unauthenticated);
    const D: Option<Code> = Some(Code::PermissionDenied);
    // Expected code per caller (None = allowed; the call may still fail on
    // its arguments, but not on who asked).
    let matrix: &[(&str, [Option<Code>; 3])] = &[
        // (rpc, [client (owner), other client, admin])
        ("auth.GetUser", [None, D, None]),
        ("auth.ListUsers", [D, D, None]),
        ("auth.SetRole", [D, D, None]),
        ("auth.UpdateProfile", [None, None, None]),
        ("product.CreateProduct", [D, D, None]),
        ("product.UpdateProduct", [D, D, None]),
        ("product.DeleteProduct", [D, D, None]),
        ("product.AddVariant", [D, D, None]),
        ("product.UpdateVariant", [D, D, None]),
        ("product.DeleteVariant", [D, D, None]),
        ("product.Reserve", [D, D, D]),
        ("product.Confirm", [D, D, D]),
        ("product.Release", [D, D, D]),
        ("cart.GetCart", [None, None, None]),
        ("order.GetOrder", [None, D, None]),
        ("order.ListMyOrders", [None, None, None]),
        ("order.ListAllOrders", [D, D, None]),
        ("order.CancelOrder", [None, D, D]),
        ("order.UpdateStatus", [D, D, None]),
    ];
    for shop in shops().await {
        let client = shop.new_client("client-x").await;
        let other = shop.new_client("client-y").await;
        let admin = shop.admin().await;
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
        // A token with admin claims, signed by a key the shop does not trust.
        let forged = IdentityKeys::generate().signer().unwrap().sign(&Identity {
            sub: "x".into(),
            name: "admin".into(),
            role: Role::Admin,
            exp: i64::MAX,
        });
        let ctx = Ctx { client, other, admin, forged, order_id };
        for (rpc, expected) in matrix {
            for who in [Anonymous, Forged] {
                let code = call(&shop, &ctx, rpc, who).await.err().map(|s| s.code());
                assert_eq!(code, U, "{rpc} as {who:?} ({})", shop.backend);
            }
            for (who, want) in [Client, Other, Admin].into_iter().zip(expected) {
                let got = call(&shop, &ctx, rpc, who).await.err().map(|s| s.code());
                match want {
                    Some(code) => {
                        assert_eq!(got, Some(*code), "{rpc} as {who:?} ({})", shop.backend)
                    }
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
