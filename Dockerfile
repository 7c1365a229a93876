# syntax=docker/dockerfile:1
#
# The one Credence binary. `docker compose up` (docker-compose.yml) runs it
# once per role on Redis; alone it runs every role on the embedded store in
# /var/lib/credence:
#
#   docker build -t credence .
#   docker run -p 8080:8080 -v credence-data:/var/lib/credence credence

# Build: a static binary (no cgo), so the runtime image needs no Go.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/credence ./cmd/credence

# Run: Debian slim (curl for the health check, CA certificates for did:web
# and webhooks), as an unprivileged user.
FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/credence --shell /usr/sbin/nologin credence \
 && install -d -o credence -g credence -m 0700 /var/lib/credence
COPY --from=build /out/credence /usr/local/bin/credence
USER 10001:10001
WORKDIR /var/lib/credence
ENV CREDENCE_ADDR=0.0.0.0:8080 \
    CREDENCE_DATA=/var/lib/credence
EXPOSE 8080
VOLUME ["/var/lib/credence"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["credence"]
CMD ["serve"]
