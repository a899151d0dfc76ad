//! One checkout through the split shop is one trace: a real OTLP receiver
//! (the opentelemetry-proto types on a tonic server) collects the spans that
//! the five processes export, and the parentage crosses process boundaries.

use crate::split::Split;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
    trace_service_server::{TraceService, TraceServiceServer},
};
use serde_json::json;
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

/// A received span: (service, name, trace id, span id, parent span id).
type Span = (String, String, Vec<u8>, Vec<u8>, Vec<u8>);

impl Receiver {
    fn spans(&self) -> Vec<Span> {
        let mut out = vec![];
        for request in self.0.lock().unwrap().iter() {
            for rs in &request.resource_spans {
                let service = rs
                    .resource
                    .iter()
                    .flat_map(|r| &r.attributes)
                    .find(|a| a.key == "service.name")
                    .and_then(|a| a.value.as_ref())
                    .map(|v| format!("{:?}", v.value))
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    for s in &ss.spans {
                        out.push((
                            service.clone(),
                            s.name.clone(),
                            s.trace_id.clone(),
                            s.span_id.clone(),
                            s.parent_span_id.clone(),
                        ));
                    }
                }
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checkout_is_one_trace_across_the_processes() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = TraceServiceServer::new(receiver.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ];
    let Some(shop) = Split::start_with(&env, &[]).await else { return };
    let token = shop.login("demo-client", "demo123").await;
    shop.call("POST", "/api/v1/cart/items", Some(&token), Some(json!({"sku": "TSHIRT-003", "quantity": 1}))).await;
    let (status, _) = shop.place_order(&token, "traced").await;
    assert_eq!(status, 201);

    // Spans arrive in batches; wait for the checkout's trace to hold all four.
    let started = Instant::now();
    let (trace, spans) = loop {
        let spans = receiver.spans();
        let checkout =
            spans.iter().find(|s| s.0.contains("atelier-gateway") && s.1 == "POST /api/v1/orders").map(|s| s.2.clone());
        if let Some(trace) = checkout {
            let in_trace: Vec<Span> = spans.into_iter().filter(|s| s.2 == trace).collect();
            let services: HashSet<&str> = in_trace.iter().map(|s| s.0.as_str()).collect();
            if ["gateway", "auth", "order", "product", "cart"]
                .iter()
                .all(|n| services.iter().any(|s| s.contains(&format!("atelier-{n}"))))
            {
                break (trace, in_trace);
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the checkout trace never completed: {:?}",
            receiver.spans()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let by_id: HashMap<&Vec<u8>, &Span> = spans.iter().map(|s| (&s.3, s)).collect();
    let parent_service = |name: &str| {
        let span = spans.iter().find(|s| s.1 == name).unwrap_or_else(|| panic!("no span {name}: {spans:?}"));
        by_id.get(&span.4).map(|p| p.0.clone()).unwrap_or_else(|| panic!("{name} has no parent in the trace"))
    };
    assert!(parent_service("/atelier.order.v1.OrderService/PlaceOrder").contains("atelier-gateway"));
    assert!(parent_service("/atelier.product.v1.ProductService/Reserve").contains("atelier-order"));
    assert!(parent_service("/atelier.cart.v1.CartService/ClearCart").contains("atelier-order"));
    assert!(parent_service("/atelier.auth.v1.AuthService/Authenticate").contains("atelier-gateway"));
    println!("FIGURE one checkout = one trace of {} spans from 5 processes (trace {:02x?})", spans.len(), &trace[..4]);
}
