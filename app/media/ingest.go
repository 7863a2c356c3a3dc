package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/storykeep/storykeep/app/storage"
)

// Ingest is the only way an upload should reach storage: it sniffs the real
// type, enforces the kind's size limit while reading, cleans photos of
// metadata (after applying their orientation), streams audio and video
// without holding them in memory, and stores the result at key.
//
// A refusal the user can fix is a *RejectError. On any failure, including a
// cancelled ctx or storage going down, nothing is left at key or at the
// original's key. key should be fresh: Ingest overwrites what is there.
func Ingest(ctx context.Context, store storage.Store, key string, r io.Reader, opts Options) (Result, error) {
	opts = opts.withDefaults()
	if err := storage.ValidateKey(key); err != nil {
		return Result{}, err
	}
	br := bufio.NewReaderSize(ctxReader{ctx, r}, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, fmt.Errorf("media: read upload: %w", err)
	}
	if len(head) == 0 {
		return Result{}, reject(ReasonEmpty, "%s is empty (0 bytes). Please choose the file again.", subject(opts.DeclaredName))
	}
	f, mime, err := detect(head, opts.DeclaredName)
	if err != nil {
		return Result{}, err
	}
	limit := opts.Limits.of(f.kind)
	src := &limitReader{r: br, left: limit, tooBig: reject(ReasonTooLarge,
		"This %s is larger than the %s limit.", kindWord[f.kind], humanSize(limit))}
	if f.kind == KindImage {
		return ingestImage(ctx, store, key, src, mime, opts)
	}
	return ingestStream(ctx, store, key, src, f, opts)
}

var kindWord = map[Kind]string{KindImage: "photo", KindAudio: "audio file", KindVideo: "video"}

// ctxReader stops a slow upload as soon as the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// limitReader fails with tooBig once more than left bytes arrive, reading at
// most one byte past the limit.
type limitReader struct {
	r        io.Reader
	left     int64
	tooBig   *RejectError
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, l.tooBig
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if l.left -= int64(n); l.left < 0 {
		l.exceeded = true
		return 0, l.tooBig
	}
	return n, err
}

// failed turns a read or store error into the error to return, preferring
// the size refusal, which is the user's to fix.
func (l *limitReader) failed(op string, err error) error {
	if l.exceeded {
		return l.tooBig
	}
	if re, ok := asReject(err); ok {
		return re
	}
	return fmt.Errorf("media: %s: %w", op, err)
}

// discard deletes what a failed Ingest already stored. It runs even when ctx
// is cancelled (that may be why Ingest failed) and joins its own failure to
// err so an operator can see an orphan may remain.
func discard(ctx context.Context, store storage.Store, err error, keys ...string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, k := range keys {
		if k == "" {
			continue
		}
		if derr := store.Delete(dctx, k); derr != nil {
			err = errors.Join(err, fmt.Errorf("media: cleanup of %q failed: %w", k, derr))
		}
	}
	return err
}
