//! Logs and traces. `RUST_LOG` sets the level; `ATELIER_LOG_FORMAT=json`
//! gives one JSON object per line. When the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans are exported over OTLP/gRPC
//! (sampling by `OTEL_TRACES_SAMPLER*`, batching by `OTEL_BSP_*`); when it is
//! not, no exporter or OpenTelemetry layer exists at all.
//!
//! Context crosses processes as W3C `traceparent`: [`inject`] into outgoing
//! gRPC metadata (the [`Traced`] interceptor), [`extract`] from incoming
//! HTTP/gRPC headers.

use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt as _, util::SubscriberInitExt as _};

/// Flushes the spans still buffered when dropped (keep it alive in `main`).
#[must_use]
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Sets up logging and, when configured, trace export. `service` names the
/// process unless `OTEL_SERVICE_NAME` does.
pub fn init(service: &str) -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,h2=warn,tower=warn"));
    let json = std::env::var("ATELIER_LOG_FORMAT").is_ok_and(|f| f == "json");
    // RUST_LOG filters the log lines only; spans for export are kept at INFO
    // whatever the log level.
    let fmt =
        if json { tracing_subscriber::fmt::layer().json().boxed() } else { tracing_subscriber::fmt::layer().boxed() }
            .with_filter(filter);
    let provider = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(|_| match tracer_provider(service) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("trace export disabled: {e}");
            None
        }
    });
    let otel = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("atelier"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    global::set_text_map_propagator(TraceContextPropagator::new());
    let _ = tracing_subscriber::registry().with(fmt).with(otel).try_init();
    Telemetry(provider)
}

fn tracer_provider(service: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service.to_string());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(name).build())
        .build())
}

struct Metadata<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for Metadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (tonic::metadata::MetadataKey::from_bytes(key.as_bytes()), value.parse()) {
            self.0.insert(k, v);
        }
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes the current span's context into outgoing gRPC metadata.
pub fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut Metadata(metadata)));
}

/// The remote parent carried by incoming headers, if any.
pub fn extract(headers: &http::HeaderMap) -> opentelemetry::Context {
    global::get_text_map_propagator(|p| p.extract(&Headers(headers)))
}

/// Makes `span` a child of the trace the request's headers carry, and puts
/// the trace id on it (declare a `trace_id` field) so that every log line
/// inside carries it.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    use opentelemetry::trace::TraceContextExt as _;
    let _ = span.set_parent(extract(headers));
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != opentelemetry::trace::TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// Client interceptor: every outgoing call carries `traceparent`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Traced;

impl tonic::service::Interceptor for Traced {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        inject(request.metadata_mut());
        Ok(request)
    }
}

/// A server span per RPC, continuing the caller's trace.
pub fn grpc_server_span(request: &http::Request<tonic::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or((path, ""));
    let span = tracing::info_span!("grpc", otel.name = %path, otel.kind = "server", rpc.system = "grpc", rpc.service = %service, rpc.method = %method, trace_id = tracing::field::Empty);
    continue_trace(&span, request.headers());
    span
}
