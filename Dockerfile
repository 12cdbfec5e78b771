# The Switchboard control plane (`switchboard serve`), for docker-compose.yml.
#
# Build stage: the golang:1.26 image (official, or the Debian-built stand-in from
# scripts/offline-images). The binary is static (CGO_ENABLED=0; pgx, chi and the ARI/AGI clients
# are pure Go) and carries its own time zone database, so the runtime stage needs no libc.
#
# Runtime stage: scratch, i.e. only the binary, CA certificates (Debian's ca-certificates, from
# the build stage, for a DATABASE_URL with sslmode=verify-full), a passwd entry for the non-root
# user and the mount point of the generated-config volume: ~17 MB, against ~90 MB for
# debian:bookworm-slim + ca-certificates + curl, and nothing to patch but the binary. The price:
# no shell in the container (debug with `docker compose exec asterisk ...` or a sidecar), and the
# healthcheck is the binary itself (`switchboard healthcheck`: GET /readyz on SWITCHBOARD_LISTEN).
FROM golang:1.26 AS build
# The build stage's last image is never tagged: the label tells it from other untagged images,
# so that a rebuild's predecessor can be removed (e2e/compose_test.go does) while the module
# download layer below it stays cached.
LABEL org.switchboard.stage=build

WORKDIR /src
# The runtime stage gets Debian's CA bundle as it is, before EXTRA_CA_CERTS below.
RUN mkdir -p /out/etc/ssl/certs && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/
# Sites behind a module mirror pass --build-arg GOPROXY=...; the default is the public proxy.
ARG GOPROXY
# Sites whose HTTPS egress is intercepted by a proxy with its own CA pass that CA's PEM text,
# for this build stage only: EXTRA_CA_CERTS="$(cat proxy-ca.crt)" docker compose build
ARG EXTRA_CA_CERTS=
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >>/etc/ssl/certs/ca-certificates.crt; fi
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Dependencies first: this layer is reused while only the code changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG SWITCHBOARD_VERSION=dev
RUN set -eux; \
    go build -tags timetzdata -ldflags "-s -w -X main.version=$SWITCHBOARD_VERSION" \
      -o /out/usr/local/bin/switchboard ./cmd/switchboard; \
    mkdir -p /out/etc/asterisk/switchboard /out/tmp; \
    echo 'switchboard:x:65532:65532:Switchboard:/nonexistent:/sbin/nologin' >/out/etc/passwd; \
    echo 'switchboard:x:65532:' >/out/etc/group; \
    chown 65532:65532 /out/etc/asterisk/switchboard; \
    chmod 1777 /out/tmp; \
    # The compiler's cache would only make this layer ~200 MB larger: the next build of changed
    # sources starts from the layer above, without it.
    go clean -cache

FROM scratch
COPY --from=build /out/ /
USER 65532:65532
ENV SWITCHBOARD_LISTEN=:8080 \
    AGI_LISTEN=:4573 \
    ARI_APP=switchboard \
    ASTERISK_CONFIG_DIR=/etc/asterisk/switchboard
# 8080: REST API, /healthz, /readyz, /metrics; 4573: FastAGI (compose network only).
EXPOSE 8080 4573
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/switchboard", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
