package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// s3PartSize bounds memory per upload: an upload of unknown size buffers one
// part at a time. 16 MiB parts allow objects up to 160 GiB (10,000 parts).
const s3PartSize = 16 << 20

// S3Config says where the bucket is. It is plain data so it can be filled
// from the environment or a config file without importing minio-go.
type S3Config struct {
	// Endpoint is host[:port]; an http:// or https:// prefix is also
	// accepted and then decides TLS.
	Endpoint  string
	Bucket    string
	Region    string // empty: asked from the server when first needed
	AccessKey string
	SecretKey string
	UseTLS    bool
	// PathStyle puts the bucket in the path, as MinIO behind a single
	// hostname needs; otherwise virtual-host style is used where supported.
	PathStyle bool
	// CreateBucket makes NewS3 create a missing bucket, for development and
	// tests; production buckets are created by operations with their policy.
	CreateBucket bool
	// LockMode is the Object Lock mode evidence is retained in when the
	// bucket has Object Lock enabled: "compliance" (default) or
	// "governance". See docs/retention.md for why compliance is the default.
	LockMode string
}

// S3 stores objects in an S3-compatible bucket (MinIO in production).
type S3 struct {
	client   *minio.Client
	bucket   string
	endpoint string
	mode     minio.RetentionMode
	lock     lockState
}

var _ Store = (*S3)(nil)

// NewS3 builds the client. It contacts the server only when CreateBucket is
// set, so the app can start before storage is reachable; Ready tells when it is.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	endpoint, secure := cfg.Endpoint, cfg.UseTLS
	if scheme, rest, ok := strings.Cut(endpoint, "://"); ok {
		if (scheme != "http" && scheme != "https") || (scheme == "http" && cfg.UseTLS) {
			return nil, fmt.Errorf("storage: S3 endpoint %q: scheme conflicts with UseTLS or is not http(s)", cfg.Endpoint)
		}
		endpoint, secure = strings.TrimSuffix(rest, "/"), scheme == "https"
	}
	if endpoint == "" {
		return nil, errors.New("storage: S3 endpoint not set")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("storage: S3 bucket %q: %w", cfg.Bucket, err)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: S3 client for %s: %w", endpoint, err)
	}
	mode := minio.Compliance
	switch strings.ToLower(cfg.LockMode) {
	case "", ModeCompliance:
	case ModeGovernance:
		mode = minio.Governance
	default:
		return nil, fmt.Errorf("storage: S3 lock mode %q: must be compliance or governance", cfg.LockMode)
	}
	s := &S3{client: client, bucket: cfg.Bucket, endpoint: client.EndpointURL().String(), mode: mode}
	if cfg.CreateBucket {
		if err := s.createBucket(ctx, cfg.Region); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *S3) createBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err == nil && !ok {
		err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
		if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou {
			err = nil // created concurrently by another instance
		}
	}
	if err != nil {
		return fmt.Errorf("storage: create bucket %q at %s: %w", s.bucket, s.endpoint, err)
	}
	return nil
}

// Put implements Store. Known sizes up to 16 MiB go in one PUT; larger or
// unknown sizes use multipart, which minio-go aborts on any failure, so a
// failed Put leaves neither an object nor stray parts.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (Info, error) {
	ct, err := checkPutArgs(key, size, contentType)
	if err != nil {
		return Info{}, err
	}
	if s.locked(ctx) {
		// The bucket keeps the old version anyway; refusing says so
		// instead of hiding the evidence behind a newer version.
		if until, err := s.RetainedUntil(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
			return Info{}, err
		} else if time.Now().Before(until) {
			return Info{}, retainedErr("put", key, until)
		}
	}
	up, err := s.client.PutObject(ctx, s.bucket, key, newPutReader(ctx, r, size), size,
		minio.PutObjectOptions{ContentType: ct, PartSize: s3PartSize})
	if err != nil {
		// minio-go aborts a failed multipart upload with the caller's
		// context, which is often the reason it failed (client gone,
		// SIGTERM): abort again with a context of our own, so the parts do
		// not stay in the bucket. What still cannot be aborted (storage
		// down) is listed and removed by `storykeep media check --fix`.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if aerr := s.client.RemoveIncompleteUpload(actx, s.bucket, key); aerr != nil {
			return Info{}, errors.Join(s.err(ctx, "put", key, err), fmt.Errorf("storage: abort multipart upload of %q: %w", key, aerr))
		}
		return Info{}, s.err(ctx, "put", key, err)
	}
	mod := up.LastModified
	if mod.IsZero() { // single PUT responses carry no date
		mod = time.Now()
	}
	return Info{Key: key, Size: up.Size, ContentType: ct, ModTime: mod}, nil
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return s.OpenRange(ctx, key, 0, -1)
}

// OpenRange implements Store with one ranged GET; the whole object's size is
// taken from Content-Range.
func (s *S3) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, Info{}, err
	}
	if length == 0 {
		return s.emptyAt(ctx, key, offset)
	}
	var opts minio.GetObjectOptions
	if length > 0 {
		opts.SetRange(offset, offset+length-1)
	} else if offset > 0 {
		opts.SetRange(offset, 0)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, Info{}, s.err(ctx, "open", key, err)
	}
	oi, err := obj.Stat() // sends the GET
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.InvalidRange {
			return s.emptyAt(ctx, key, offset) // offset == size, or past it
		}
		return nil, Info{}, s.err(ctx, "open", key, err)
	}
	info := Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}
	if cr := oi.Headers.Get("Content-Range"); cr != "" {
		_, total, _ := strings.Cut(cr, "/")
		if n, err := strconv.ParseInt(total, 10, 64); err == nil {
			info.Size = n
		}
	}
	return obj, info, nil
}

// emptyAt serves a zero-length read at offset, which S3 refuses as a range.
func (s *S3) emptyAt(ctx context.Context, key string, offset int64) (io.ReadCloser, Info, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	if offset > info.Size {
		return nil, Info{}, fmt.Errorf("%w: offset %d past size %d of %q", ErrInvalidRange, offset, info.Size, key)
	}
	return io.NopCloser(strings.NewReader("")), info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.err(ctx, "stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if s.locked(ctx) {
		return s.deleteVersions(ctx, key)
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil {
		if err = s.err(ctx, "delete", key, err); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// List implements Store. Keys that Local could not hold (such as the "dir/"
// markers some consoles create) are skipped, so both stores list alike.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	defer func() {
		cancel()
		for range ch { // minio-go needs the channel drained to stop
		}
	}()
	for oi := range ch {
		if oi.Err != nil {
			return s.err(ctx, "list", prefix, oi.Err)
		}
		if ValidateKey(oi.Key) != nil {
			continue
		}
		if err := fn(Info{Key: oi.Key, Size: oi.Size, ModTime: oi.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Ready implements Store; the error names the bucket and endpoint because it
// ends up in health-check output read by whoever is on call.
func (s *S3) Ready(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: cannot check bucket %q at %s: %w", s.bucket, s.endpoint, err)
	}
	if !ok {
		return fmt.Errorf("storage: bucket %q does not exist at %s", s.bucket, s.endpoint)
	}
	return nil
}

// PresignGet returns a URL that lets a browser fetch the object directly for
// expiry (1s to 7 days), so large videos need not pass through the app. With
// downloadName set the browser saves it under that name instead of showing
// it. The URL uses the configured endpoint, which must be reachable by the
// browser; the object's existence is not checked.
func (s *S3) PresignGet(ctx context.Context, key string, expiry time.Duration, downloadName string) (*url.URL, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	params := url.Values{}
	if downloadName != "" {
		clean := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || r == '/' || r == '\\' {
				return '_'
			}
			return r
		}, downloadName)
		cd := mime.FormatMediaType("attachment", map[string]string{"filename": clean})
		if cd == "" {
			return nil, fmt.Errorf("storage: presign %q: unusable download name %q", key, downloadName)
		}
		params.Set("response-content-disposition", cd)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, params)
	if err != nil {
		return nil, s.err(ctx, "presign", key, err)
	}
	return u, nil
}

// err maps S3 errors onto the package's sentinels and names the bucket.
func (s *S3) err(ctx context.Context, op, key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return fmt.Errorf("storage: %s %q: %w", op, key, ErrNotFound)
	case minio.InvalidRange:
		return fmt.Errorf("storage: %s %q: %w", op, key, ErrInvalidRange)
	}
	return fmt.Errorf("storage: %s %q in bucket %q: %w", op, key, s.bucket, ctxErr(ctx, err))
}

// Leftovers implements LeftoverStore: incomplete multipart uploads started
// more than olderThan ago.
func (s *S3) Leftovers(ctx context.Context, olderThan time.Duration) ([]Leftover, error) {
	var out []Leftover
	cut := time.Now().Add(-olderThan)
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			return out, s.err(ctx, "list multipart uploads", "", u.Err)
		}
		if u.Initiated.Before(cut) {
			out = append(out, Leftover{Kind: "incomplete multipart upload", Key: u.Key, UploadID: u.UploadID, Size: u.Size, Started: u.Initiated})
		}
	}
	return out, nil
}

// RemoveLeftover implements LeftoverStore: it aborts the multipart upload.
func (s *S3) RemoveLeftover(ctx context.Context, l Leftover) error {
	if err := (&minio.Core{Client: s.client}).AbortMultipartUpload(ctx, s.bucket, l.Key, l.UploadID); err != nil {
		return s.err(ctx, "abort multipart upload", l.Key, err)
	}
	return nil
}
