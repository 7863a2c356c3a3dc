package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/media/mediatest"
	"github.com/storykeep/storykeep/app/storage/miniotest"
	"github.com/storykeep/storykeep/models"
)

// rss returns this process's resident set size in bytes.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// peakRSS samples RSS until stop is closed and returns the peak.
func peakRSS(stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peak {
				peak = r
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkUploadThroughStorykeep streams a large recording through the real
// upload route (multipart, CSRF, media pipeline, SHA-256, S3 multipart) into
// a real MinIO, and a direct minio-go PutObject of the same bytes to the same
// MinIO, and reports both throughputs and the peak memory growth of the
// Storykeep upload. Size: STORYKEEP_BENCH_UPLOAD_MB (default 1024).
//
//	go test ./app/web/ -run '^$' -bench UploadThroughStorykeep -benchtime 1x
func BenchmarkUploadThroughStorykeep(b *testing.B) {
	mb, _ := strconv.Atoi(os.Getenv("STORYKEEP_BENCH_UPLOAD_MB"))
	if mb <= 0 {
		mb = 1024
	}
	size := int64(mb) << 20
	s3 := miniotest.Start(b)
	env := apptest.New(b, func(c *config.Config) {
		c.MediaBackend, c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey = "s3", s3.Endpoint, s3.Bucket, s3.AccessKey, s3.SecretKey
		c.S3UseTLS, c.S3PathStyle = false, true
	})
	env.App.Media.SetLimits(size+1, size+1, size+1)
	teller, tu := env.SignedIn(models.RoleStoryteller)
	storyID := createStoryB(b, teller, storyForm(addPatientB(env, tu.ID, "Ana Ruiz"), tu.ID, "Benchmark"))
	direct, err := minio.New(s3.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		// Direct PutObject, as the yardstick.
		start := time.Now()
		if _, err := direct.PutObject(context.Background(), s3.Bucket, fmt.Sprintf("direct-%d.wav", i), mediatest.WAV(size), size, minio.PutObjectOptions{ContentType: "audio/wav"}); err != nil {
			b.Fatal(err)
		}
		directSecs := time.Since(start).Seconds()

		// Through Storykeep's upload route.
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, _ := mw.CreateFormFile("files", "interview.wav")
			_, err := io.Copy(fw, mediatest.WAV(size))
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/stories/"+storyID+"/media", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-CSRF-Token", teller.CSRF())
		req.Header.Set("Accept", "application/json")
		base := rss()
		stop := make(chan struct{})
		peak := peakRSS(stop)
		start = time.Now()
		res := teller.Do(req)
		skSecs := time.Since(start).Seconds()
		close(stop)
		growth := <-peak - base
		if res.Status != http.StatusOK {
			b.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		directMBs, skMBs := float64(mb)/directSecs, float64(mb)/skSecs
		b.ReportMetric(directMBs, "direct-MB/s")
		b.ReportMetric(skMBs, "storykeep-MB/s")
		b.ReportMetric(100*skMBs/directMBs, "%-of-direct")
		b.ReportMetric(float64(growth)/(1<<20), "peak-RSS-growth-MiB")
	}
}

var benchSeq atomic.Int64

func addPatientB(env *apptest.Env, by, name string) string { return addPatient(env, by, name) }

func createStoryB(b *testing.B, c *apptest.Client, form map[string][]string) string {
	form["title"] = []string{fmt.Sprintf("%s %d", form["title"][0], benchSeq.Add(1))}
	res := c.Post("/stories", form)
	if res.Status != http.StatusSeeOther {
		b.Fatalf("create story: %d", res.Status)
	}
	return strings.TrimPrefix(res.Location(), "/stories/")
}
