package audit_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/pdfseal"
	"github.com/storykeep/storykeep/app/pdfseal/tsatest"
	"github.com/storykeep/storykeep/app/storage/miniotest"
	"github.com/storykeep/storykeep/models"
)

type anchorFixture struct {
	gdb  *gorm.DB
	log  *audit.Log
	an   *audit.Anchorer
	cert *x509.Certificate
	dir  string
}

func newAnchorFixture(t *testing.T) *anchorFixture {
	t.Helper()
	gdb, _ := dbtest.Open(t)
	key, cert, err := pdfseal.LoadOrCreate(t.TempDir(), "Test Hospital")
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(gdb)
	dir := filepath.Join(t.TempDir(), "anchors")
	return &anchorFixture{gdb: gdb, log: l, cert: cert, dir: dir,
		an: &audit.Anchorer{Log: l, Stores: []audit.AnchorStore{audit.DirAnchors{Dir: dir}}, Signer: key, Cert: cert}}
}

func (f *anchorFixture) anchor(t *testing.T) audit.Anchor {
	t.Helper()
	a, wrote, err := f.an.Anchor(context.Background(), false)
	if err != nil || !wrote {
		t.Fatalf("anchor: wrote=%v %v", wrote, err)
	}
	return a
}

// verify reads the anchors back from their stores and verifies the chain.
func (f *anchorFixture) verify(t *testing.T) audit.Report {
	t.Helper()
	anchors, probs, err := audit.ReadAnchors(context.Background(), f.an.Stores)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.log.VerifyWith(context.Background(), audit.VerifyOptions{Anchors: anchors, AnchorProblems: probs, Cert: f.cert})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func hasProblem(rep audit.Report, kind string, seq int64, text string) bool {
	for _, p := range rep.Problems {
		if p.Kind == kind && p.Seq == seq && strings.Contains(p.Reason, text) {
			return true
		}
	}
	return false
}

// TestAnchorsCatchDeletedTail: with the triggers dropped, deleting the last
// entries leaves a shorter chain that verifies on its own; the anchor
// written before says the chain was longer.
func TestAnchorsCatchDeletedTail(t *testing.T) {
	f := newAnchorFixture(t)
	record(t, f.log, 5)
	if a := f.anchor(t); a.Seq != 5 {
		t.Fatalf("anchored %d", a.Seq)
	}
	record(t, f.log, 3)
	f.anchor(t)
	if rep := f.verify(t); rep.Broken != nil || rep.Checked != 8 || rep.Anchors != 2 {
		t.Fatalf("before tampering: %+v", rep)
	}
	disableAppendOnly(t, f.gdb)
	if err := f.gdb.Exec("DELETE FROM audit_log WHERE seq > 6").Error; err != nil {
		t.Fatal(err)
	}
	if rep, err := f.log.Verify(context.Background()); err != nil || rep.Broken != nil || rep.Checked != 6 {
		t.Fatalf("without anchors the shortened chain verifies (the weakness anchors close): %+v %v", rep, err)
	}
	rep := f.verify(t)
	if rep.Broken == nil || !hasProblem(rep, audit.ProblemTail, 8, "entries 7 to 8 were removed") {
		t.Fatalf("deleted tail not reported: %+v", rep.Problems)
	}
}

// TestAnchorsCatchRecomputedChain: an entry edited and every later hash
// recomputed with the published formula verifies on its own; the anchor
// holds the hash the chain had.
func TestAnchorsCatchRecomputedChain(t *testing.T) {
	f := newAnchorFixture(t)
	record(t, f.log, 6)
	f.anchor(t)
	disableAppendOnly(t, f.gdb)
	var rows []models.AuditEntry
	if err := f.gdb.Order("seq").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	prev := *rows[1].Hash
	for _, e := range rows[2:] {
		if *e.Seq == 3 {
			e.Details = `{"role":"admin"}`
		}
		e.PrevHash = &prev
		h := audit.Hash(e)
		if err := f.gdb.Exec("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE id = ?", e.Details, prev, h, e.ID).Error; err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	if rep, err := f.log.Verify(context.Background()); err != nil || rep.Broken != nil || rep.Checked != 6 {
		t.Fatalf("without anchors the recomputed chain verifies: %+v %v", rep, err)
	}
	rep := f.verify(t)
	if rep.Broken == nil || !hasProblem(rep, audit.ProblemAnchor, 6, "were rewritten after it") {
		t.Fatalf("recomputed chain not reported: %+v", rep.Problems)
	}
}

// TestAnchorFilesReadOnlyAndSigned: anchors on local disk are read-only
// files, written only when the head moved; an altered anchor fails its
// signature.
func TestAnchorFilesReadOnlyAndSigned(t *testing.T) {
	f := newAnchorFixture(t)
	if _, wrote, err := f.an.Anchor(context.Background(), false); err != nil || wrote {
		t.Fatalf("an empty chain is not anchored: %v %v", wrote, err)
	}
	record(t, f.log, 2)
	a := f.anchor(t)
	fi, err := os.Stat(a.Location)
	if err != nil || fi.Mode().Perm() != 0o444 || filepath.Dir(a.Location) != f.dir {
		t.Fatalf("anchor file %s: %v %v", a.Location, fi.Mode(), err)
	}
	if _, wrote, err := f.an.Anchor(context.Background(), false); err != nil || wrote {
		t.Fatalf("an unchanged head is not anchored again: %v %v", wrote, err)
	}
	if _, wrote, err := f.an.Anchor(context.Background(), true); err != nil || !wrote {
		t.Fatalf("on demand it is: %v %v", wrote, err)
	}
	var n int64
	f.gdb.Model(&struct{}{}).Table("audit_anchors").Count(&n)
	if n != 2 {
		t.Fatalf("%d anchors recorded", n)
	}
	if rep := f.verify(t); rep.Broken != nil || rep.Anchors != 2 {
		t.Fatalf("%+v", rep)
	}
	// Someone with the file system rewrites the anchor to match a
	// rewritten chain; without the seal key the signature gives it away.
	b, _ := os.ReadFile(a.Location)
	var stored audit.Anchor
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	stored.Hash = strings.Repeat("0", 64)
	b, _ = json.Marshal(stored)
	if err := os.Chmod(a.Location, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.Location, b, 0o444); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t)
	if !hasProblem(rep, audit.ProblemAnchor, 2, "signature does not verify") {
		t.Fatalf("altered anchor not reported: %+v", rep.Problems)
	}
}

// TestAnchorInObjectLockBucket writes anchors to a real MinIO bucket with
// Object Lock: each is under COMPLIANCE retention, its version cannot be
// deleted even with the app's own credentials, a delete marker does not
// hide it from verify, and a deleted tail is still caught.
func TestAnchorInObjectLockBucket(t *testing.T) {
	f := newAnchorFixture(t)
	cfg := miniotest.Start(t)
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg.Bucket += "-lock"
	if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	st, err := audit.NewS3Anchors(cfg, 6*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if locked, err := st.ObjectLock(ctx); err != nil || !locked {
		t.Fatalf("object lock: %v %v", locked, err)
	}
	f.an.Stores = []audit.AnchorStore{st}
	record(t, f.log, 4)
	a := f.anchor(t)
	key := strings.TrimPrefix(a.Location, "s3://"+cfg.Bucket+"/")
	info, err := client.StatObject(ctx, cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mode, until, err := client.GetObjectRetention(ctx, cfg.Bucket, key, info.VersionID)
	if err != nil || mode == nil || *mode != minio.Compliance || until.Before(time.Now().AddDate(5, 11, 0)) {
		t.Fatalf("retention: %v %v %v", mode, until, err)
	}
	if err := client.RemoveObject(ctx, cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
		t.Fatal("a locked anchor was deleted with the app's credentials")
	}
	if err := client.RemoveObject(ctx, cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); err == nil {
		t.Fatal("a COMPLIANCE anchor was deleted with governance bypass")
	}
	// A delete without a version only adds a delete marker.
	if err := client.RemoveObject(ctx, cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t); rep.Broken != nil || rep.Anchors != 1 || rep.LastAnchor.Seq != 4 {
		t.Fatalf("anchor hidden by a delete marker: %+v", rep)
	}
	disableAppendOnly(t, f.gdb)
	if err := f.gdb.Exec("DELETE FROM audit_log WHERE seq = 4").Error; err != nil {
		t.Fatal(err)
	}
	if rep := f.verify(t); !hasProblem(rep, audit.ProblemTail, 4, "entries 4 to 4 were removed") {
		t.Fatalf("deleted tail not reported: %+v", rep.Problems)
	}

	// A bucket without Object Lock takes anchors too, without retention.
	plain, err := audit.NewS3Anchors(miniotest.Start(t), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if locked, err := plain.ObjectLock(ctx); err != nil || locked {
		t.Fatalf("plain bucket: %v %v", locked, err)
	}
	if _, err := plain.Write(ctx, "audit-anchors/x.json", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Write(ctx, "audit-anchors/x.json", []byte(`{"again":1}`)); err == nil {
		t.Fatal("an anchor was overwritten")
	}
}

// TestAnchorTimestamped: with a real RFC 3161 timestamp authority, each
// anchor carries a token over its statement; an anchor whose time was
// changed afterwards (to pass a late rewrite off as old) no longer matches
// its token.
func TestAnchorTimestamped(t *testing.T) {
	f := newAnchorFixture(t)
	f.an.TSAURL = tsatest.Start(t)
	record(t, f.log, 3)
	a := f.anchor(t)
	if a.TSAToken == "" || a.TSATime == nil || a.TSATime.Sub(a.At).Abs() > time.Minute {
		t.Fatalf("no timestamp: %+v", a)
	}
	if bad := audit.CheckAnchor(a, f.cert, 10*time.Minute); len(bad) != 0 {
		t.Fatal(bad)
	}
	if rep := f.verify(t); rep.Broken != nil {
		t.Fatalf("%+v", rep.Problems)
	}
	moved := a
	moved.At = a.At.Add(-24 * time.Hour)
	if bad := audit.CheckAnchor(moved, nil, 10*time.Minute); len(bad) != 1 || !strings.Contains(bad[0], "covers something else") {
		t.Fatalf("backdated anchor: %v", bad)
	}
}

var syslogLine = regexp.MustCompile(`^<110>1 \S+ \S+ storykeep \d+ audit-anchor \[storykeepAnchor@32473 seq="(\d+)" hash="([0-9a-f]+)" at="(\S+)" sig="([^"]+)" signer="([0-9a-f]+)"\] (storykeep-audit-anchor/1 .*)$`)

// TestAnchorSentToSyslog: each anchor goes to the syslog endpoint as one
// RFC 5424 line, over TCP (octet counting) and UDP, whose message the seal
// key's signature covers.
func TestAnchorSentToSyslog(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			f := newAnchorFixture(t)
			lines := make(chan string, 1)
			var addr string
			if network == "tcp" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				addr = ln.Addr().String()
				go func() {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
					r := bufio.NewReader(c)
					n, _ := r.ReadString(' ')
					size, _ := strconv.Atoi(strings.TrimSpace(n))
					buf := make([]byte, size)
					if _, err := io.ReadFull(r, buf); err == nil {
						lines <- string(buf)
					}
				}()
			} else {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				addr = pc.LocalAddr().String()
				go func() {
					buf := make([]byte, 8192)
					n, _, err := pc.ReadFrom(buf)
					if err == nil {
						lines <- string(buf[:n])
					}
				}()
			}
			sl, err := audit.ParseSyslog(network + "://" + addr)
			if err != nil {
				t.Fatal(err)
			}
			f.an.Syslog = sl
			record(t, f.log, 2)
			a := f.anchor(t)
			var line string
			select {
			case line = <-lines:
			case <-time.After(10 * time.Second):
				t.Fatal("no syslog line")
			}
			m := syslogLine.FindStringSubmatch(line)
			if m == nil || m[1] != "2" || m[2] != a.Hash || m[6] != string(a.Statement()) {
				t.Fatalf("line %q", line)
			}
			sig, _ := base64.StdEncoding.DecodeString(m[4])
			if err := f.cert.CheckSignature(x509.ECDSAWithSHA256, []byte(m[6]), sig); err != nil {
				t.Fatalf("syslog signature: %v", err)
			}
			var sent bool
			f.gdb.Raw("SELECT syslog FROM audit_anchors").Scan(&sent)
			if !sent {
				t.Fatal("anchor not recorded as sent")
			}
		})
	}
}

func TestParseSyslogRefusesOtherSchemes(t *testing.T) {
	for _, bad := range []string{"http://x:1", "tcp://x", "udp://:514x", ""} {
		if _, err := audit.ParseSyslog(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
