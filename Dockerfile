# The operator image: a release build of the livestream-operator binary on distroless (non-root,
# CA certificates, glibc, nothing else). Build: docker build -t livestream-operator .
# The build stage runs the same `cargo build --release --locked -p livestream-operator` as a
# developer or CI release build; dependencies are compiled in their own layer, so a source change
# rebuilds only the operator crate.
# The base images are arguments so that a machine without a registry can build on local
# equivalents (hack/image.sh makes them from Debian packages); the defaults are the published ones.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src

# 1. Dependencies: the manifests and stub targets only (local/ is a workspace member, so its
#    manifest and a stub must exist for cargo to load the workspace).
#    No cache mounts: this layer holds the registry and target/, so any layer cache (CI's too)
#    restores them; a mount would only help a Cargo.lock change on one long-lived builder.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY local/Cargo.toml local/Cargo.toml
# The [patch] of livestream-local's RTMP library: cargo reads its manifest to load the workspace
# (the operator does not depend on it, so its sources stay out of this layer).
COPY third_party/scuffle-rtmp/Cargo.toml third_party/scuffle-rtmp/Cargo.toml
RUN mkdir -p src local/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > local/src/main.rs \
    && cargo build --release --locked -p livestream-operator \
    && rm -rf src

# 2. The operator itself (the CRD and the built player page are compiled in).
COPY src src
COPY crds crds
COPY website/dist website/dist
COPY website/src/index.html website/src/player.css website/src/
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked -p livestream-operator

FROM ${RUNTIME_IMAGE}
COPY --from=build /src/target/release/livestream-operator /usr/local/bin/livestream-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/livestream-operator"]
CMD ["run", "--log-format", "json", "--http-addr", "0.0.0.0:8080"]
