# electric-operator container image.
#
#   docker build -t <your-registry>/electric-operator:0.1.0 .
#
# Stage 1 builds the operator with the same Debian packages the project is
# developed against; stage 2 ships the binary on debian:bookworm-slim with only
# the shared libraries it links, and runs it as an unprivileged user.
# tests/e2e/dockerfile_deps_test.sh checks the runtime package list below
# against `ldd` of the built binary, so it cannot silently drift.

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake \
      ninja-build \
      g++ \
      libcpprest-dev \
      nlohmann-json3-dev \
      libyaml-cpp-dev \
      libssl-dev \
      libspdlog-dev \
      libpq-dev \
      pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the operator's build reads, so edits to docs, charts or tests do
# not invalidate this layer.
COPY CMakeLists.txt ./
COPY operator/ operator/
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEO_BUILD_TESTS=OFF \
 && ninja -C build electric-operator \
 && strip build/bin/electric-operator \
 && build/bin/electric-operator --version

FROM debian:${DEBIAN_RELEASE}-slim
# runtime-packages: exactly the packages owning the libraries the binary links
# (libc6, libstdc++6 and libgcc-s1 are in the base image; apt pulls their
# dependencies such as libbrotli1 and zlib1g).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcpprest2.10 \
      libfmt9 \
      libpq5 \
      libspdlog1.10 \
      libssl3 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/electric-operator /electric-operator
# 65532 is the conventional "nonroot" uid/gid; the Deployment's
# runAsNonRoot check needs a numeric USER.
USER 65532:65532
ENTRYPOINT ["/electric-operator"]
CMD ["run"]
LABEL org.opencontainers.image.title="electric-operator" \
      org.opencontainers.image.description="Kubernetes operator running ElectricSQL on sharded PostgreSQL" \
      org.opencontainers.image.version="0.1.0"
