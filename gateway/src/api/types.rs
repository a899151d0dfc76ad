//! The API's request and response bodies.

use crate::format;
use atelier_proto::{auth, cart, order, product};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    pub username: String,
    pub email: String,
    pub phone: String,
    /// "client" or "admin"
    pub role: String,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

impl From<auth::User> for UserOut {
    fn from(u: auth::User) -> Self {
        UserOut {
            role: if u.role() == auth::Role::Admin { "admin" } else { "client" }.into(),
            id: u.id,
            username: u.username,
            email: u.email,
            phone: u.phone,
            created_at_ms: u.created_at_ms,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    /// 3-32 letters, digits, '.', '_' or '-'.
    pub username: String,
    /// At least 8 characters.
    pub password: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfilePatch {
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariantOut {
    pub sku: String,
    /// XS, S, M, L, XL or XXL.
    pub size: String,
    pub color: String,
    pub price_cents: i64,
    pub stock: i64,
}

impl From<product::Variant> for VariantOut {
    fn from(v: product::Variant) -> Self {
        VariantOut {
            size: format::size_name(v.size).into(),
            sku: v.code,
            color: v.color,
            price_cents: v.price_cents,
            stock: v.stock,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductOut {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// "builtin:<shape>" or an https URL.
    pub image: String,
    /// Where to load the picture from.
    pub image_url: String,
    /// Send back when editing (optimistic concurrency).
    pub version: i64,
    pub created_at_ms: i64,
    pub variants: Vec<VariantOut>,
}

impl From<product::Product> for ProductOut {
    fn from(p: product::Product) -> Self {
        let color = p.variants.first().map(|v| v.color.clone()).unwrap_or_default();
        ProductOut {
            image_url: format::image_url(&p.image, &color),
            id: p.id,
            name: p.name,
            description: p.description,
            category: p.category,
            image: p.image,
            version: p.version,
            created_at_ms: p.created_at_ms,
            variants: p.variants.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    pub items: Vec<ProductOut>,
    /// Matching products, counted exactly up to 1 000 past this page.
    pub total: u64,
    /// True when more than `total` products match.
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Words to search for in name, category, description and SKU codes:
    /// each must match a word exactly, as its beginning, or (from four
    /// letters on) with one typo.
    pub q: Option<String>,
    pub category: Option<String>,
    /// XS, S, M, L, XL or XXL.
    pub size: Option<String>,
    pub color: Option<String>,
    /// In cents.
    pub min_price: Option<i64>,
    /// In cents.
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    /// relevance, name, price_asc, price_desc or newest. Default: relevance
    /// (best match first) with `q`, name without.
    pub sort: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartLineOut {
    pub sku: String,
    pub quantity: i64,
    pub product_id: String,
    pub name: String,
    pub size: String,
    pub color: String,
    pub unit_price_cents: i64,
    pub stock: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartOut {
    pub lines: Vec<CartLineOut>,
    pub total_cents: i64,
    /// Changes made because the catalogue changed (lowered or removed lines).
    pub notices: Vec<String>,
}

impl From<cart::Cart> for CartOut {
    fn from(c: cart::Cart) -> Self {
        CartOut {
            lines: c
                .lines
                .into_iter()
                .map(|l| CartLineOut {
                    sku: l.code,
                    quantity: l.quantity,
                    product_id: l.product_id,
                    name: l.product_name,
                    size: l.size,
                    color: l.color,
                    unit_price_cents: l.unit_price_cents,
                    stock: l.stock,
                })
                .collect(),
            total_cents: c.total_cents,
            notices: c.notices.into_iter().map(|n| n.message).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddItemBody {
    pub sku: String,
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QuantityBody {
    /// 0 removes the line.
    #[schema(minimum = 0, maximum = 1000)]
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineOut {
    pub sku: String,
    pub product_id: String,
    pub name: String,
    pub size: String,
    pub color: String,
    pub unit_price_cents: i64,
    pub quantity: i64,
}

/// A delivery address.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct AddressIn {
    /// Who receives the parcel.
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
}

/// A saved address of the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressOut {
    pub id: String,
    pub name: String,
    pub line1: String,
    pub line2: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub is_default: bool,
}

impl From<AddressIn> for atelier_proto::auth::Address {
    fn from(a: AddressIn) -> Self {
        Self {
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            postcode: a.postcode,
            city: a.city,
            country: a.country,
            ..Default::default()
        }
    }
}

impl From<atelier_proto::auth::Address> for AddressOut {
    fn from(a: atelier_proto::auth::Address) -> Self {
        AddressOut {
            id: a.id,
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            postcode: a.postcode,
            city: a.city,
            country: a.country,
            is_default: a.is_default,
        }
    }
}

/// A new address for the account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAddressBody {
    #[serde(flatten)]
    pub address: AddressIn,
    /// Make it the default (the first address always is).
    #[serde(default)]
    pub make_default: bool,
}

/// Where and how an order goes; every field optional.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct PlaceOrderBody {
    /// An address for this order only.
    #[serde(default)]
    pub address: Option<AddressIn>,
    /// One of the account's saved addresses. Neither this nor `address`:
    /// the account's default address.
    #[serde(default)]
    pub address_id: Option<String>,
    /// standard (default: 3-5 working days, EUR 4.95, free from EUR 100 of
    /// goods) or express (1-2 working days, EUR 9.95).
    #[serde(default)]
    pub delivery: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub id: String,
    /// What shoppers and admins call the order, e.g. A-10042 (orders placed
    /// before numbers existed: # and the end of the id).
    pub number: String,
    pub username: String,
    /// processing, shipped, delivered or canceled.
    pub status: String,
    pub total_cents: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub lines: Vec<OrderLineOut>,
    /// Where it goes (absent for orders placed before addresses existed).
    pub address: Option<AddressIn>,
    /// standard or express.
    pub delivery: String,
    /// Part of total_cents.
    pub delivery_cents: i64,
}

impl From<order::Order> for OrderOut {
    fn from(o: order::Order) -> Self {
        OrderOut {
            number: format::order_label(o.number, &o.id),
            status: format::status_name(o.status).into(),
            address: o.address.map(|a| AddressIn {
                name: a.name,
                line1: a.line1,
                line2: a.line2,
                postcode: a.postcode,
                city: a.city,
                country: a.country,
            }),
            delivery: crate::checkout::delivery_name(o.delivery).into(),
            delivery_cents: o.delivery_cents,
            id: o.id,
            username: o.username,
            total_cents: o.total_cents,
            created_at_ms: o.created_at_ms,
            updated_at_ms: o.updated_at_ms,
            lines: o
                .lines
                .into_iter()
                .map(|l| OrderLineOut {
                    sku: l.code,
                    product_id: l.product_id,
                    name: l.product_name,
                    size: l.size,
                    color: l.color,
                    unit_price_cents: l.unit_price_cents,
                    quantity: l.quantity,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderOut>,
    /// Matching orders, counted exactly up to 1 000 past this page.
    pub total: u64,
    /// True when more than `total` orders match.
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

impl OrderPage {
    pub fn new(r: atelier_proto::order::ListOrdersResponse, page: u32, per_page: u32) -> Self {
        OrderPage {
            items: r.orders.into_iter().map(Into::into).collect(),
            total: r.total,
            total_capped: r.total_capped,
            page,
            per_page,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderQuery {
    /// processing, shipped, delivered or canceled.
    pub status: Option<String>,
    /// Exact username.
    pub user: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a username or email.
    pub q: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserOut>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleBody {
    /// "client" or "admin"
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusBody {
    /// shipped or delivered (admins advance orders; customers cancel their own).
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VariantIn {
    pub sku: String,
    /// XS, S, M, L, XL or XXL.
    pub size: String,
    pub color: String,
    #[schema(minimum = 0)]
    pub price_cents: i64,
    #[schema(minimum = 0)]
    pub stock: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    /// "builtin:<shape>" or an https URL; default builtin:tshirt.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub variants: Vec<VariantIn>,
}

/// Fields to change; `version` (from the product) guards against lost updates.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductPatch {
    pub version: i64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub image: Option<String>,
}

/// Fields to change; stock moves by `stock_delta` so concurrent sales count.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VariantPatch {
    pub size: Option<String>,
    pub color: Option<String>,
    pub price_cents: Option<i64>,
    pub stock_delta: Option<i64>,
}
