package storage_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/storykeep/storykeep/app/storage"
	"github.com/storykeep/storykeep/app/storage/miniotest"
)

// BenchmarkPut compares both stores on known and unknown sizes, so the cost
// of streaming multipart (size -1) on MinIO is visible next to local disk.
// Run with: go test -run '^$' -bench Put ./app/storage/
func BenchmarkPut(b *testing.B) {
	for _, s := range []struct {
		name string
		open func(b *testing.B) storage.Store
	}{
		{"local", func(b *testing.B) storage.Store {
			l, err := storage.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { l.Close() })
			return l
		}},
		{"s3", func(b *testing.B) storage.Store {
			s, err := storage.NewS3(b.Context(), miniotest.Start(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	} {
		for _, size := range []int64{256 << 10, 32 * mib} {
			for _, declared := range []bool{true, false} {
				name := fmt.Sprintf("%s/%dKiB/known=%v", s.name, size>>10, declared)
				b.Run(name, func(b *testing.B) { benchPut(b, s.open(b), size, declared) })
			}
		}
	}
}

func benchPut(b *testing.B, st storage.Store, size int64, declared bool) {
	n := int64(-1)
	if declared {
		n = size
	}
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("bench/%d", i%4)
		if _, err := st.Put(b.Context(), key, stream(byte(i), size), n, "video/mp4"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkS3Get measures reading back a 32 MiB object from MinIO.
func BenchmarkS3Get(b *testing.B) {
	s, err := storage.NewS3(b.Context(), miniotest.Start(b))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Put(b.Context(), "bench/get", stream(9, 32*mib), 32*mib, ""); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(32 * mib)
	for b.Loop() {
		rc, _, err := s.Open(b.Context(), "bench/get")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}
}
