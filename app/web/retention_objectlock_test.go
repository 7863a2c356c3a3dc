package web_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/storage/miniotest"
	"github.com/storykeep/storykeep/models"
)

// TestObjectLockConsentEvidence signs a consent against a real MinIO bucket
// with Object Lock: the signature image, the certificate and the signed
// photo are retained in compliance mode until now + 6 years (the record is
// valid, its end not known yet), cannot be removed with the app's own root
// credentials, and are extended to the record's end + 6 years when the
// patient revokes a year later. /readyz says Object Lock is active.
func TestObjectLockConsentEvidence(t *testing.T) {
	s3 := miniotest.StartLocked(t)
	e := newConsentEnv(t, func(c *config.Config) {
		c.MediaBackend, c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey = "s3", s3.Endpoint, s3.Bucket, s3.AccessKey, s3.SecretKey
		c.S3UseTLS, c.S3PathStyle = false, true
	})
	ctx := context.Background()
	e.Client().Get("/readyz").Expect(http.StatusOK).Contains(`"object_lock":"active (compliance)"`)

	photo := addPhoto(t, e.Env, e.story, e.owner.ID, "María en el jardín")
	a, err := e.App.Media.Get(ctx, photo)
	if err != nil {
		t.Fatal(err)
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Store.Put(ctx, a.StorageKey, bytes.NewReader(jpg.Bytes()), int64(jpg.Len()), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	res := e.staff.Post("/stories/"+e.story+"/consent", url.Values{"signer": {"patient"}, "channels": {"website", "x"}, "media": {photo},
		"name_usage": {"first_name"}, "language": {"es"}, "link_days": {"14"}}).Expect(http.StatusOK)
	link, _ := url.Parse(res.Doc.Find("#consent-link").AttrOr("value", ""))
	p := e.Client()
	verifyDOB(p, link.Path, "1984", "7", "21").Expect(http.StatusSeeOther)
	form := signForm()
	form["media"] = []string{photo}
	before := time.Now().UTC()
	confirmSign(p, link.Path, form).Expect(http.StatusOK)
	e.runJobs(t)
	after := time.Now().UTC()

	var rec models.ConsentRecord
	if err := e.App.DB.Where("story_id = ?", e.story).Take(&rec).Error; err != nil {
		t.Fatal(err)
	}
	if rec.CertificateKey == "" {
		t.Fatal("no certificate stored")
	}
	keys := map[string]string{"signature": rec.SignatureKey, "certificate": rec.CertificateKey, "photo": a.StorageKey}
	raw, err := minio.New(s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	retained := func(what, key string) (time.Time, string) {
		t.Helper()
		st, err := raw.StatObject(ctx, s3.Bucket, key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		mode, until, err := raw.GetObjectRetention(ctx, s3.Bucket, key, st.VersionID)
		if err != nil || mode == nil || until == nil || *mode != minio.Compliance {
			t.Fatalf("%s %s has no compliance retention: %v %v %v", what, key, mode, until, err)
		}
		return *until, st.VersionID
	}
	for what, key := range keys {
		until, version := retained(what, key)
		lo, hi := before.AddDate(6, 0, 0).Add(-time.Second), after.AddDate(6, 0, 0).Add(time.Second)
		if until.Before(lo) || until.After(hi) {
			t.Fatalf("%s retained until %v, want now + 6 years (%v..%v)", what, until, lo, hi)
		}
		if err := raw.RemoveObject(ctx, s3.Bucket, key, minio.RemoveObjectOptions{VersionID: version, GovernanceBypass: true}); err == nil {
			t.Fatalf("%s was deleted with the app's root credentials", what)
		}
		if err := e.App.Store.Delete(ctx, key); err == nil {
			t.Fatalf("Storykeep's store deleted the %s", what)
		}
	}

	// The patient revokes a year later: the end is known, and the
	// evidence is kept until it plus six years.
	revokeAt := time.Now().UTC().AddDate(1, 0, 0)
	e.App.Consent.SetClock(func() time.Time { return revokeAt })
	if err := e.App.Consent.Revoke(ctx, &rec, "Cambié de opinión", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	if err := e.App.DB.Where("id = ?", rec.ID).Take(&rec).Error; err != nil || rec.EndedAt == nil {
		t.Fatalf("record not ended: %v", err)
	}
	want := rec.EndedAt.AddDate(6, 0, 0).UTC().Truncate(time.Second)
	for what, key := range keys {
		if until, _ := retained(what, key); !until.Equal(want) {
			t.Fatalf("after revocation %s retained until %v, want %v (end + 6 years)", what, until, want)
		}
	}
}
