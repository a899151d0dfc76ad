//! Compiles the Atelier protocol in pure Rust (protox parses the contracts, so
//! no system `protoc` is needed) and keeps the file descriptor set for gRPC
//! server reflection.
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let protos = [
        "atelier/auth/v1/auth.proto",
        "atelier/product/v1/product.proto",
        "atelier/cart/v1/cart.proto",
        "atelier/order/v1/order.proto",
    ];
    let descriptors = protox::Compiler::new(["."])?
        .include_imports(true)
        .include_source_info(true)
        .open_files(protos)?
        .file_descriptor_set();
    std::fs::write(out.join("atelier_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    Ok(())
}
