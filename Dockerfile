# One image, every binary: `atelier` (every role of the shop, and `seed`), one
# per role (`atelier-auth`, `-product`, `-cart`, `-order`, `-gateway`: what
# the Deployments run, each holding its role's code only) and
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
 && cd "target/$target/release" \
 && cp atelier atelier-auth atelier-product atelier-cart atelier-order atelier-gateway atelier-operator /out/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /
USER 65532:65532
EXPOSE 3000 50051 50052 50053 50054 8080
ENTRYPOINT ["/atelier"]
