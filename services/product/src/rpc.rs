//! The gRPC face of the product service.

use crate::{ProductService, catalog, stock, validate};
use atelier_proto::product::{self as pb, product_service_server::ProductService as Rpc};
use atelier_runtime::{Identity, Role};
use tonic::{Request, Response, Status};

type RpcResult<T> = Result<Response<T>, Status>;

impl ProductService {
    fn admin<T>(&self, request: &Request<T>) -> Result<Identity, Status> {
        let caller = self.verifier.caller(request)?;
        caller.require_admin()?;
        Ok(caller)
    }
    fn service<T>(&self, request: &Request<T>) -> Result<(), Status> {
        match self.verifier.caller(request)?.role {
            Role::Service => Ok(()),
            _ => Err(Status::permission_denied("only the order service reserves stock")),
        }
    }
}

fn order_id(id: &str) -> Result<&str, Status> {
    let ok = (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(id)
    } else {
        Err(Status::invalid_argument("order id must be 1 to 64 characters of letters, digits or '-'"))
    }
}

#[tonic::async_trait]
impl Rpc for ProductService {
    async fn list_products(&self, request: Request<pb::ListProductsRequest>) -> RpcResult<pb::ListProductsResponse> {
        let r = request.into_inner();
        if r.query.chars().count() > 100 || r.color.chars().count() > 32 || r.category.chars().count() > 40 {
            return Err(Status::invalid_argument("search text is too long"));
        }
        if r.min_price_cents.is_some_and(|p| p < 0) || r.max_price_cents.is_some_and(|p| p < 0) {
            return Err(Status::invalid_argument("prices cannot be negative"));
        }
        if pb::Sort::try_from(r.sort).is_err() {
            return Err(Status::invalid_argument("unknown sort order"));
        }
        let key = prost::Message::encode_to_vec(&r);
        let version = catalog::catalog_version(&self.pool).await?;
        if let Some(cached) = self.listings.get(&key, version) {
            return Ok(Response::new(cached));
        }
        let listing = self.index.list(&self.pool, &r, version).await?;
        let response = pb::ListProductsResponse {
            products: listing.products,
            cards: listing.cards,
            total: listing.total,
            total_capped: false,
        };
        self.listings.put(key, version, response.clone());
        Ok(Response::new(response))
    }

    async fn facets(&self, _: Request<pb::FacetsRequest>) -> RpcResult<pb::FacetsResponse> {
        let version = catalog::catalog_version(&self.pool).await?;
        Ok(Response::new(self.index.facets(&self.pool, version).await?))
    }

    async fn get_product(&self, request: Request<pb::GetProductRequest>) -> RpcResult<pb::GetProductResponse> {
        let product = catalog::get(&self.pool, &request.into_inner().id).await?;
        Ok(Response::new(pb::GetProductResponse { product: Some(product) }))
    }

    async fn get_variants(&self, request: Request<pb::GetVariantsRequest>) -> RpcResult<pb::GetVariantsResponse> {
        let codes = request.into_inner().codes;
        if codes.len() > 200 {
            return Err(Status::invalid_argument("at most 200 codes at a time"));
        }
        let variants = catalog::variants(&self.pool, &codes).await?;
        Ok(Response::new(pb::GetVariantsResponse { variants }))
    }

    async fn create_product(&self, request: Request<pb::CreateProductRequest>) -> RpcResult<pb::CreateProductResponse> {
        self.admin(&request)?;
        let r = request.into_inner();
        let fields = validate::product(&r.name, &r.description, &r.category, &r.image)?;
        let variants = r.variants.iter().map(validate::variant).collect::<Result<Vec<_>, _>>()?;
        if variants.len() > 50 {
            return Err(Status::invalid_argument("a product has at most 50 variants"));
        }
        let product = catalog::create(&self.pool, fields, &variants).await?;
        tracing::info!(product_id = %product.id, "product created");
        Ok(Response::new(pb::CreateProductResponse { product: Some(product) }))
    }

    async fn update_product(&self, request: Request<pb::UpdateProductRequest>) -> RpcResult<pb::UpdateProductResponse> {
        self.admin(&request)?;
        let r = request.into_inner();
        let fields = validate::product(&r.name, &r.description, &r.category, &r.image)?;
        let product = catalog::update(&self.pool, &r.id, r.version, fields).await?;
        Ok(Response::new(pb::UpdateProductResponse { product: Some(product) }))
    }

    async fn delete_product(&self, request: Request<pb::DeleteProductRequest>) -> RpcResult<pb::DeleteProductResponse> {
        self.admin(&request)?;
        let codes = catalog::delete(&self.pool, &request.into_inner().id).await?;
        Ok(Response::new(pb::DeleteProductResponse { codes }))
    }

    async fn add_variant(&self, request: Request<pb::AddVariantRequest>) -> RpcResult<pb::AddVariantResponse> {
        self.admin(&request)?;
        let r = request.into_inner();
        let variant = validate::variant(&r.variant.unwrap_or_default())?;
        let product = catalog::add_variant(&self.pool, &r.product_id, &variant).await?;
        Ok(Response::new(pb::AddVariantResponse { product: Some(product) }))
    }

    async fn update_variant(&self, request: Request<pb::UpdateVariantRequest>) -> RpcResult<pb::UpdateVariantResponse> {
        self.admin(&request)?;
        let r = request.into_inner();
        let size = validate::size(r.size)?;
        let color = validate::variant(&pb::Variant {
            code: r.code.clone(),
            size: r.size,
            color: r.color.clone(),
            price_cents: r.price_cents,
            stock: 0,
        })?
        .color;
        if r.stock_delta.abs() > validate::MAX_STOCK {
            return Err(Status::invalid_argument("stock change is out of range"));
        }
        let code = validate::code(&r.code)?;
        let product = catalog::update_variant(&self.pool, &code, size, &color, r.price_cents, r.stock_delta).await?;
        Ok(Response::new(pb::UpdateVariantResponse { product: Some(product) }))
    }

    async fn delete_variant(&self, request: Request<pb::DeleteVariantRequest>) -> RpcResult<pb::DeleteVariantResponse> {
        self.admin(&request)?;
        catalog::delete_variant(&self.pool, &validate::code(&request.into_inner().code)?).await?;
        Ok(Response::new(pb::DeleteVariantResponse {}))
    }

    async fn reserve(&self, request: Request<pb::ReserveRequest>) -> RpcResult<pb::ReserveResponse> {
        self.service(&request)?;
        let r = request.into_inner();
        let lines = stock::merge_lines(&r.lines)?;
        let lines = stock::reserve(&self.pool, order_id(&r.order_id)?, lines).await?;
        self.stock_moved(&lines.iter().map(|l| l.product_id.clone()).collect::<Vec<_>>());
        Ok(Response::new(pb::ReserveResponse { lines }))
    }

    async fn confirm(&self, request: Request<pb::ConfirmRequest>) -> RpcResult<pb::ConfirmResponse> {
        self.service(&request)?;
        stock::confirm(&self.pool, order_id(&request.into_inner().order_id)?).await?;
        Ok(Response::new(pb::ConfirmResponse {}))
    }

    async fn low_stock(&self, request: Request<pb::LowStockRequest>) -> RpcResult<pb::LowStockResponse> {
        self.admin(&request)?;
        let r = request.into_inner();
        let limit = if r.limit == 0 { 10 } else { r.limit };
        if !(1..=50).contains(&limit) || r.at_most < 0 {
            return Err(Status::invalid_argument("limit is 1-50 and at_most not negative"));
        }
        Ok(Response::new(pb::LowStockResponse { variants: catalog::low_stock(&self.pool, r.at_most, limit).await? }))
    }

    async fn release(&self, request: Request<pb::ReleaseRequest>) -> RpcResult<pb::ReleaseResponse> {
        self.service(&request)?;
        let released = stock::release(&self.pool, order_id(&request.into_inner().order_id)?).await?;
        if let Some(products) = &released {
            self.stock_moved(products);
        }
        Ok(Response::new(pb::ReleaseResponse { released: released.is_some() }))
    }
}
