package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/storage"
)

// DirAnchors keeps anchors as read-only files in a directory on local disk
// (DATA_DIR/anchors). A file is created once and never replaced; Storykeep
// never deletes one. This protects against a database-only attacker; anyone
// with the server's file system can still remove files, which is why a
// bucket with Object Lock, a timestamp authority or a syslog copy is the
// stronger choice (docs/audit.md).
type DirAnchors struct{ Dir string }

func (d DirAnchors) String() string { return d.Dir }

// Write implements AnchorStore: the file is written to a temporary name,
// synced, made read-only and then linked under its name, which fails if it
// exists, so an anchor is never half written nor replaced.
func (d DirAnchors) Write(_ context.Context, name string, body []byte) (string, error) {
	dst := filepath.Join(d.Dir, filepath.Base(name))
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(d.Dir, ".anchor-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return "", err
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		return "", err
	}
	if dir, err := os.Open(d.Dir); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return dst, nil
}

// ReadAll implements AnchorStore.
func (d DirAnchors) ReadAll(context.Context) ([]RawAnchor, error) {
	ents, err := os.ReadDir(d.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RawAnchor
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(d.Dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, RawAnchor{Location: p, Body: b})
	}
	return out, nil
}

// S3Anchors keeps anchors as objects in the media bucket, under
// audit-anchors/. When the bucket has Object Lock enabled, each anchor is
// written with a COMPLIANCE retention of Retain, so no one, the
// application's own credentials and the bucket's owner included, can delete
// or overwrite it before then. It has its own minio-go client (built from
// the same settings as the media store) because the storage interface has
// no retention.
type S3Anchors struct {
	client *minio.Client
	bucket string
	Retain time.Duration
}

// NewS3Anchors builds the client for cfg's bucket.
func NewS3Anchors(cfg storage.S3Config, retain time.Duration) (*S3Anchors, error) {
	endpoint, secure := cfg.Endpoint, cfg.UseTLS
	if scheme, rest, ok := strings.Cut(endpoint, "://"); ok {
		endpoint, secure = strings.TrimSuffix(rest, "/"), scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Secure: secure, Region: cfg.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("audit: S3 client for anchors: %w", err)
	}
	return &S3Anchors{client: client, bucket: cfg.Bucket, Retain: retain}, nil
}

func (s *S3Anchors) String() string { return "s3://" + s.bucket + "/audit-anchors/" }

// ObjectLock reports whether the bucket has Object Lock enabled. A bucket
// without a lock configuration, or a server that does not implement Object
// Lock, has none; any other failure (access denied, network) is an error,
// so an anchor is never written unlocked to a bucket that may be locked.
func (s *S3Anchors) ObjectLock(ctx context.Context) (bool, error) {
	enabled, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "ObjectLockConfigurationNotFoundError", "NotImplemented":
			return false, nil
		}
		return false, err
	}
	return enabled == "Enabled", nil
}

// Write implements AnchorStore. An anchor is never replaced: the PUT is
// conditional on the key not existing (If-None-Match: *).
func (s *S3Anchors) Write(ctx context.Context, name string, body []byte) (string, error) {
	locked, err := s.ObjectLock(ctx)
	if err != nil {
		return "", fmt.Errorf("object lock configuration: %w", err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/json", SendContentMd5: true}
	opts.SetMatchETagExcept("*")
	if locked && s.Retain > 0 {
		opts.Mode = minio.Compliance
		opts.RetainUntilDate = time.Now().Add(s.Retain).UTC()
	}
	if _, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		return "", err
	}
	return "s3://" + path.Join(s.bucket, name), nil
}

// ReadAll implements AnchorStore. It lists every version, not only the
// current ones: in a bucket with Object Lock (always versioned) a DELETE
// without a version id does not remove a locked anchor but hides it behind a
// delete marker, which must not hide it from verification.
func (s *S3Anchors) ReadAll(ctx context.Context) ([]RawAnchor, error) {
	type ver struct{ key, id string }
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: "audit-anchors/", Recursive: true, WithVersions: true})
	var vers []ver
	var lerr error
	for oi := range ch {
		if oi.Err != nil && lerr == nil {
			lerr = oi.Err
			cancel()
		}
		if oi.Err == nil && !oi.IsDeleteMarker && strings.HasSuffix(oi.Key, ".json") {
			vers = append(vers, ver{oi.Key, oi.VersionID})
		}
	}
	cancel()
	if lerr != nil {
		return nil, lerr
	}
	sort.SliceStable(vers, func(i, j int) bool { return vers[i].key < vers[j].key })
	out := make([]RawAnchor, 0, len(vers))
	for _, v := range vers {
		opts := minio.GetObjectOptions{}
		loc := "s3://" + path.Join(s.bucket, v.key)
		if v.id != "" && v.id != "null" {
			opts.VersionID = v.id
			loc += "?versionId=" + v.id
		}
		obj, err := s.client.GetObject(ctx, s.bucket, v.key, opts)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(obj, 1<<20))
		obj.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
		out = append(out, RawAnchor{Location: loc, Body: b})
	}
	return out, nil
}
