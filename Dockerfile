# Storykeep image: the static binary on Debian slim, with ffmpeg (video
# posters and durations) and heif-convert (iPhone HEIC photos), run as a
# non-root user. In the default SQLite mode /data must be writable: it is
# created owned by that user, and a named volume mounted there inherits it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/storykeep/storykeep/app/web.Version=${VERSION}" \
    -o /out/storykeep ./cmd/storykeep

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg libheif-examples \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --user-group --home-dir /data --no-create-home storykeep \
 && install -d -o 65532 -g 65532 -m 0700 /data
COPY --from=build /out/storykeep /usr/local/bin/storykeep
USER 65532:65532
WORKDIR /data
ENV STORYKEEP_LISTEN=0.0.0.0:8080 STORYKEEP_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/usr/local/bin/storykeep", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/storykeep"]
CMD ["serve"]
