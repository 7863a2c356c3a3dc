package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

var _ Retainer = (*S3)(nil)

// lockState caches whether the bucket has Object Lock: it is a property of
// the bucket fixed at creation, so it is asked once, at start or when first
// needed if the server was not reachable then.
type lockState struct {
	mu      sync.Mutex
	known   bool
	enabled bool
	why     string
}

// DetectLock asks the bucket whether Object Lock is enabled (minio-go
// GetObjectLockConfig). A bucket without it answers "not found", which is
// remembered; an unreachable server is not, so a later call asks again.
func (s *S3) DetectLock(ctx context.Context) (bool, error) {
	s.lock.mu.Lock()
	defer s.lock.mu.Unlock()
	if s.lock.known {
		return s.lock.enabled, nil
	}
	enabled, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
	if err != nil && minio.ToErrorResponse(err).Code == "AccessDenied" {
		// Credentials without s3:GetBucketObjectLockConfiguration: say so
		// rather than failing every upload.
		s.lock.known, s.lock.enabled = true, false
		s.lock.why = "no permission to read the bucket's Object Lock configuration"
		return false, nil
	}
	if err != nil {
		code := minio.ToErrorResponse(err).Code
		if code != "ObjectLockConfigurationNotFoundError" && code != "NoSuchObjectLockConfiguration" {
			s.lock.why = "cannot ask the bucket: " + ctxErr(ctx, err).Error()
			return false, fmt.Errorf("storage: object lock of bucket %q at %s: %w", s.bucket, s.endpoint, ctxErr(ctx, err))
		}
		enabled = ""
	}
	s.lock.known, s.lock.enabled = true, enabled == "Enabled"
	s.lock.why = ""
	if !s.lock.enabled {
		s.lock.why = "bucket has no Object Lock"
	}
	return s.lock.enabled, nil
}

// locked reports whether Object Lock is known to be enabled; on an error it
// is treated as enabled, so deletes and overwrites stay careful.
func (s *S3) locked(ctx context.Context) bool {
	on, err := s.DetectLock(ctx)
	return on || err != nil
}

// WriteOnce implements Retainer.
func (s *S3) WriteOnce(ctx context.Context) WriteOnce {
	on, err := s.DetectLock(ctx)
	if err != nil || !on {
		s.lock.mu.Lock()
		defer s.lock.mu.Unlock()
		return WriteOnce{Why: s.lock.why}
	}
	return WriteOnce{Active: true, Mode: strings.ToLower(string(s.mode))}
}

// Retain implements Retainer with PutObjectRetention on the object's
// current version, in the configured mode. S3 refuses to shorten a
// compliance retention, so a later date already set is read first and kept.
func (s *S3) Retain(ctx context.Context, key string, until time.Time) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	on, err := s.DetectLock(ctx)
	if err != nil || !on {
		return err
	}
	until = until.UTC().Truncate(time.Second)
	cur, err := s.RetainedUntil(ctx, key)
	if err != nil {
		return err
	}
	if !until.After(cur) {
		return nil
	}
	mode := s.mode
	if err := s.client.PutObjectRetention(ctx, s.bucket, key, minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until}); err != nil {
		return s.err(ctx, "retain", key, err)
	}
	return nil
}

// RetainedUntil implements Retainer: the current version's retention date.
func (s *S3) RetainedUntil(ctx context.Context, key string) (time.Time, error) {
	if err := ValidateKey(key); err != nil {
		return time.Time{}, err
	}
	_, until, err := s.client.GetObjectRetention(ctx, s.bucket, key, "")
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError", "InvalidRequest":
			return time.Time{}, nil
		}
		return time.Time{}, s.err(ctx, "retention", key, err)
	}
	if until == nil {
		return time.Time{}, nil
	}
	return *until, nil
}

// deleteVersions deletes every version of key. An Object Lock bucket is
// versioned: a plain delete would only add a delete marker and keep the
// bytes, which is wrong for a patient's photo deleted on request. A version
// under retention is refused by the server, and reported as ErrRetained.
func (s *S3) deleteVersions(ctx context.Context, key string) error {
	if until, err := s.RetainedUntil(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	} else if time.Now().Before(until) {
		return retainedErr("delete", key, until)
	}
	lctx, cancel := context.WithCancel(ctx)
	ch := s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true})
	var versions []string
	for oi := range ch {
		if oi.Err != nil {
			cancel()
			for range ch {
			}
			return s.err(ctx, "delete", key, oi.Err)
		}
		if oi.Key == key {
			versions = append(versions, oi.VersionID)
		}
	}
	cancel()
	for _, v := range versions {
		if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: v}); err != nil {
			if code := minio.ToErrorResponse(err).Code; code == "AccessDenied" || code == "ObjectLocked" {
				return fmt.Errorf("storage: delete %q version %s: %w: %v", key, v, ErrRetained, err)
			}
			if err = s.err(ctx, "delete", key, err); !errors.Is(err, ErrNotFound) {
				return err
			}
		}
	}
	return nil
}
