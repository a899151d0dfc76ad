# One image, both binaries: `atelier` (every role of the shop) and
# `atelier-operator`. Static musl builds on a distroless base, non-root.
FROM rust:1-bookworm AS build
# The build machine's own architecture (x86_64 or aarch64), so the image runs
# where it was built; the contracts compile in pure Rust (no protoc).
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY . .
RUN target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked --target "$target" -p atelier -p atelier-operator \
 && mkdir /out \
 && cp "target/$target/release/atelier" "target/$target/release/atelier-operator" /out/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/atelier /out/atelier-operator /
USER 65532:65532
EXPOSE 3000 50051 50052 50053 50054 8080
ENTRYPOINT ["/atelier"]
