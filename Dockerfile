# Storykeep image: a static, non-root binary on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/storykeep/storykeep/app/web.Version=${VERSION}" \
    -o /out/storykeep ./cmd/storykeep

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/storykeep /storykeep
USER nonroot:nonroot
ENV STORYKEEP_LISTEN=0.0.0.0:8080 STORYKEEP_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/storykeep", "healthcheck"]
ENTRYPOINT ["/storykeep"]
CMD ["serve"]
