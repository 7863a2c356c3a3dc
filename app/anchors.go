package app

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/storage"
)

// NewAnchorer builds what writes the audit chain's head outside the
// database (docs/audit.md): an object in the S3 bucket when media is in S3
// (write-once, with COMPLIANCE retention for the retention period, when
// the bucket has Object Lock), else a read-only file in DATA_DIR/anchors;
// signed with the organisation's seal key; timestamped by STORYKEEP_TSA_URL
// when set; sent to STORYKEEP_AUDIT_SYSLOG when set.
func NewAnchorer(cfg *config.Config, log *audit.Log) (*audit.Anchorer, error) {
	stores, err := AnchorStores(cfg)
	if err != nil {
		return nil, err
	}
	sealer, err := NewSealer(cfg)
	if err != nil {
		return nil, err
	}
	an := &audit.Anchorer{Log: log, Stores: stores, Signer: sealer.Key, Cert: sealer.Cert, TSAURL: cfg.TSAURL}
	if cfg.AuditSyslog != "" {
		if an.Syslog, err = audit.ParseSyslog(cfg.AuditSyslog); err != nil {
			return nil, fmt.Errorf("STORYKEEP_AUDIT_SYSLOG: %w", err)
		}
	}
	return an, nil
}

// AnchorStores returns where anchors are written and read back from.
func AnchorStores(cfg *config.Config) ([]audit.AnchorStore, error) {
	if cfg.MediaBackend == "s3" {
		years := max(cfg.RetentionYears, 1)
		st, err := audit.NewS3Anchors(storage.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, UseTLS: cfg.S3UseTLS, PathStyle: cfg.S3PathStyle},
			time.Until(time.Now().AddDate(years, 0, 0)))
		if err != nil {
			return nil, err
		}
		return []audit.AnchorStore{st}, nil
	}
	return []audit.AnchorStore{audit.DirAnchors{Dir: filepath.Join(cfg.DataDir, "anchors")}}, nil
}
