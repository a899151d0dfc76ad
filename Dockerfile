# One image, both binaries: `atelier` (every role of the shop) and
# `atelier-operator`. Static musl builds on a distroless base, non-root.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl -p atelier -p atelier-operator \
 && mkdir /out \
 && cp target/x86_64-unknown-linux-musl/release/atelier target/x86_64-unknown-linux-musl/release/atelier-operator /out/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/atelier /out/atelier-operator /
USER 65532:65532
EXPOSE 3000 50051 50052 50053 50054 8080
ENTRYPOINT ["/atelier"]
