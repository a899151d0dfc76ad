//! Compiles the Atelier protocol with protoc and keeps a file descriptor set
//! for gRPC server reflection.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let protos = [
        "atelier/auth/v1/auth.proto",
        "atelier/product/v1/product.proto",
        "atelier/cart/v1/cart.proto",
        "atelier/order/v1/order.proto",
    ];
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("atelier_descriptor.bin"))
        .compile_protos(&protos, &["."])?;
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    Ok(())
}
