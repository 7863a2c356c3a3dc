package media

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// toolTimeout stops a hung or pathological ffmpeg/ffprobe run from holding
// an upload request forever.
const toolTimeout = 2 * time.Minute

// haveTool looks the tool up on every call, so installing ffmpeg takes
// effect without a restart.
func haveTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// runTool runs an external tool and returns its stdout; the error carries
// the end of stderr, which is where ffmpeg says what went wrong.
func runTool(ctx context.Context, name string, args ...string) ([]byte, error) {
	return runToolFor(ctx, toolTimeout, name, args...)
}

// runToolFor is runTool with its own time limit.
func runToolFor(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrToolMissing, name)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = "…" + msg[len(msg)-500:]
		}
		return nil, fmt.Errorf("media: %s: %w: %s", name, err, msg)
	}
	return stdout.Bytes(), nil
}
